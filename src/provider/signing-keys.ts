import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

/** Every algorithm Umbral signs with; ES256 first, so it is the default for new clients. */
export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
type SigningAlg = (typeof SIGNING_ALGS)[number];

async function generateSigningKey(alg: SigningAlg) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, alg, private_jwk: JSON.stringify({ ...jwk, kid, alg, use: 'sig' }) };
}

async function addKeys(db: Kysely<Database>, algs: readonly SigningAlg[]): Promise<string[]> {
  if (algs.length === 0) return [];
  const rows = await Promise.all(algs.map(generateSigningKey));
  await db.insertInto('signing_keys').values(rows).execute();
  return rows.map((r) => r.kid);
}

/**
 * The JWKS oidc-provider signs with and publishes: the newest active key of each alg first
 * (oidc-provider signs with the first key that fits), then retired keys still published.
 * Generates the first keys on first start.
 */
export async function loadSigningKeys(db: Kysely<Database>): Promise<JWK[]> {
  const active = await db.selectFrom('signing_keys').select('alg').where('retired_at', 'is', null).execute();
  await addKeys(db, SIGNING_ALGS.filter((alg) => !active.some((k) => k.alg === alg)));
  const rows = await db
    .selectFrom('signing_keys')
    .select(['private_jwk', 'retired_at'])
    .where((eb) => eb.or([eb('unpublish_at', 'is', null), eb('unpublish_at', '>', new Date())]))
    .orderBy('created_at', 'desc')
    .orderBy('kid')
    .execute();
  const ordered = [...rows.filter((r) => !r.retired_at), ...rows.filter((r) => r.retired_at)];
  return ordered.map((r) => r.private_jwk as JWK);
}

/**
 * Adds a new key per alg and retires the current ones. Retired keys stay published for
 * `keepPublishedSeconds` (the longest lifetime of anything they signed), then drop out.
 * Running servers sign with the new keys after their next restart.
 */
export async function rotateSigningKeys(
  db: Kysely<Database>,
  keepPublishedSeconds: number,
): Promise<{ added: string[]; retired: string[] }> {
  const now = new Date();
  const retired = await db
    .updateTable('signing_keys')
    .set({ retired_at: now, unpublish_at: new Date(now.getTime() + keepPublishedSeconds * 1000) })
    .where('retired_at', 'is', null)
    .returning('kid')
    .execute();
  const added = await addKeys(db, SIGNING_ALGS);
  return { added, retired: retired.map((r) => r.kid) };
}
