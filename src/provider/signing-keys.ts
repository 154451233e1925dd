import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { SecretBox } from '../crypto/secret-box.ts';
import { notifyChange } from '../storage/change-notices.ts';
import type { Database } from '../storage/schema.ts';

/**
 * Every algorithm Umbral signs with, each with a key of its own (RFC 8725 §3.1: one key, one
 * algorithm; so PS256 does not share the RS256 key). RS256 is the ID token default: OpenID Connect
 * Registration makes it the default of every client that names none, and RP libraries expect it.
 */
export const SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export const DEFAULT_ID_TOKEN_SIGNING_ALG: SigningAlg = 'RS256';

export function isSigningAlg(value: string): value is SigningAlg {
  return (SIGNING_ALGS as readonly string[]).includes(value);
}

/** RSA keys of 2048 bits; EdDSA is Ed25519 (jose's default curve, the only one oidc-provider signs with). */
function keyOptions(alg: SigningAlg) {
  if (alg === 'RS256' || alg === 'PS256') return { modulusLength: 2048 };
  if (alg === 'EdDSA') return { crv: 'Ed25519' };
  return {};
}

/**
 * How a private key is stored: sealed with SECRET_ENCRYPTION_KEY (src/crypto/secret-box.ts),
 * bound to its kid, so a database dump or backup alone cannot sign tokens. Keys stored before
 * sealing existed (a plain JWK) are sealed the next time the keys are loaded.
 */
interface StoredKey {
  sealed: string;
}

const sealContext = (kid: string) => `signing_key:${kid}`;

function seal(box: SecretBox, jwk: JWK & { kid: string }): string {
  return JSON.stringify({ sealed: box.seal(JSON.stringify(jwk), sealContext(jwk.kid)) } satisfies StoredKey);
}

/** Makes a new private key of `alg`, as a JWK. */
export type PrivateKeySource = (alg: SigningAlg) => Promise<JWK>;

export async function generatePrivateJwk(alg: SigningAlg): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...keyOptions(alg) });
  return exportJWK(privateKey);
}

let privateKeySource: PrivateKeySource = generatePrivateJwk;

/**
 * For tests only: a 2048-bit RSA key takes up to a second to make, and every test server makes
 * two, so tests hand out keys made once per run instead (test/support/signing-key-pool.ts).
 * The server never calls this; it always generates fresh keys.
 */
export function useSigningKeySource(source: PrivateKeySource): void {
  privateKeySource = source;
}

async function generateSigningKey(alg: SigningAlg, box: SecretBox) {
  const jwk = await privateKeySource(alg);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, alg, private_jwk: seal(box, { ...jwk, kid, alg, use: 'sig' }) };
}

/**
 * Holds the signing keys' lock until the transaction ends: nodes starting at once on an empty
 * database, or a rotation beside a start, take turns, so one set of keys is made, not one each.
 */
async function lockSigningKeys(trx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('umbral:signing_keys'))`.execute(trx);
}

async function activeAlgs(db: Kysely<Database>): Promise<Set<string>> {
  const rows = await db.selectFrom('signing_keys').select('alg').where('retired_at', 'is', null).execute();
  return new Set(rows.map((r) => r.alg));
}

/**
 * Adds a key for each alg without an active one. Under the lock: a node that waited for another
 * finds its keys and makes none (an RSA key takes a while: only the first start pays for it).
 */
async function addMissingKeys(db: Kysely<Database>, box: SecretBox): Promise<void> {
  if ((await activeAlgs(db)).size === SIGNING_ALGS.length) return;
  await db.transaction().execute(async (trx) => {
    await lockSigningKeys(trx);
    const active = await activeAlgs(trx);
    const missing = SIGNING_ALGS.filter((alg) => !active.has(alg));
    if (missing.length === 0) return;
    const rows = await Promise.all(missing.map((alg) => generateSigningKey(alg, box)));
    await trx.insertInto('signing_keys').values(rows).execute();
  });
}

/** The private JWK of a stored row; a plain one (stored before sealing) is sealed in place. */
async function openKey(
  db: Kysely<Database>,
  box: SecretBox,
  kid: string,
  stored: Record<string, unknown>,
): Promise<JWK> {
  if (typeof stored['sealed'] === 'string') return JSON.parse(box.open(stored['sealed'], sealContext(kid))) as JWK;
  const jwk = stored as JWK & { kid: string };
  await db
    .updateTable('signing_keys')
    .set({ private_jwk: seal(box, jwk) })
    .where('kid', '=', kid)
    .execute();
  return jwk;
}

/**
 * The JWKS oidc-provider signs with and publishes: the newest active key of each alg first
 * (oidc-provider signs with the first key that fits), then retired keys still published.
 * Generates the first keys on first start.
 */
export async function loadSigningKeys(db: Kysely<Database>, box: SecretBox): Promise<JWK[]> {
  await addMissingKeys(db, box);
  const rows = await db
    .selectFrom('signing_keys')
    .select(['kid', 'private_jwk', 'retired_at'])
    .where((eb) => eb.or([eb('unpublish_at', 'is', null), eb('unpublish_at', '>', new Date())]))
    .orderBy('created_at', 'desc')
    .orderBy('kid')
    .execute();
  const ordered = [...rows.filter((r) => !r.retired_at), ...rows.filter((r) => r.retired_at)];
  return Promise.all(ordered.map((r) => openKey(db, box, r.kid, r.private_jwk)));
}

/**
 * Adds a new key per alg and retires the current ones, in one transaction. Retired keys stay
 * published for `keepPublishedSeconds` (the longest lifetime of anything they signed), then drop
 * out. Running servers hear of it at once (a change notice) and reload their keys, or at their
 * next scheduled reload (src/provider/key-reload.ts) if the notice is lost.
 */
export async function rotateSigningKeys(
  db: Kysely<Database>,
  box: SecretBox,
  keepPublishedSeconds: number,
): Promise<{ added: string[]; retired: string[] }> {
  const rows = await Promise.all(SIGNING_ALGS.map((alg) => generateSigningKey(alg, box)));
  return db.transaction().execute(async (trx) => {
    await lockSigningKeys(trx);
    const now = new Date();
    const retired = await trx
      .updateTable('signing_keys')
      .set({ retired_at: now, unpublish_at: new Date(now.getTime() + keepPublishedSeconds * 1000) })
      .where('retired_at', 'is', null)
      .returning('kid')
      .execute();
    await trx.insertInto('signing_keys').values(rows).execute();
    await notifyChange(trx, { keys: true });
    return { added: rows.map((r) => r.kid), retired: retired.map((r) => r.kid) };
  });
}

/**
 * What a node compares to see whether the published keys changed: the kids, newest first, each
 * marked retired or not (cheap: no key is opened). Keys whose publication ended drop out.
 */
export async function signingKeysVersion(db: Kysely<Database>): Promise<string> {
  const rows = await db
    .selectFrom('signing_keys')
    .select(['kid', 'retired_at'])
    .where((eb) => eb.or([eb('unpublish_at', 'is', null), eb('unpublish_at', '>', new Date())]))
    .orderBy('created_at', 'desc')
    .orderBy('kid')
    .execute();
  return rows.map((r) => `${r.kid}${r.retired_at ? '-' : '+'}`).join(',');
}

/** Members only a private key has: dropped from the keys others verify with. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * The public parts of the keys published now, read from the database (not from this process's
 * provider): a process verifying tokens (the Admin API) also accepts those signed with a key
 * another process rotated in. Never generates keys.
 */
export async function loadPublishedPublicKeys(db: Kysely<Database>, box: SecretBox): Promise<JWK[]> {
  const rows = await db
    .selectFrom('signing_keys')
    .select(['kid', 'alg', 'private_jwk'])
    .where((eb) => eb.or([eb('unpublish_at', 'is', null), eb('unpublish_at', '>', new Date())]))
    .execute();
  const keys = await Promise.all(rows.map((row) => openKey(db, box, row.kid, row.private_jwk)));
  return keys.map((key) => {
    const publicKey: Record<string, unknown> = { ...key };
    for (const member of PRIVATE_MEMBERS) delete publicKey[member];
    return publicKey as JWK;
  });
}
