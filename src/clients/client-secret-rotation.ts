import { clientSecretMatches } from './client-secret.ts';

/**
 * Secret rotation with overlap: a new secret takes over at once, and the previous one keeps
 * working until a chosen expiry, so a portal's instances can move to the new one without an outage.
 *
 * Why in the client's metadata, and how oidc-provider is made to accept several: oidc-provider
 * compares a presented secret through `Client.prototype.compareClientSecret` (awaited by its client
 * authentication, for client_secret_basic and client_secret_post alike), which Umbral already
 * overrides to compare hashes (src/provider/create-provider.ts). That override also accepts a
 * previous secret before its expiry. The previous hashes live in the metadata (`previous_secrets`),
 * so the cached client carries them: no query per token request, and one write rotates. oidc-provider's
 * own `client_secret_expires_at` expires the one secret a client has, which is not an overlap.
 */

/** A rotated secret: its hash (never the value), and when it was made and stops working (epoch seconds). */
export interface PreviousSecret {
  hash: string;
  created_at: number;
  expires_at: number;
}

/** How a secret appears in listings: dates, never values. */
export interface SecretListing {
  status: 'current' | 'previous';
  createdAt: string | null;
  /** Null for the current secret: it works until the next rotation. */
  expiresAt: string | null;
}

export const DEFAULT_KEEP_OLD_SECONDS = 7 * 24 * 60 * 60;
export const MAX_KEEP_OLD_SECONDS = 90 * 24 * 60 * 60;

export function isPreviousSecretList(value: unknown): value is PreviousSecret[] {
  return (
    Array.isArray(value) &&
    value.every(
      (item) =>
        typeof item === 'object' &&
        item !== null &&
        typeof item.hash === 'string' &&
        typeof item.created_at === 'number' &&
        typeof item.expires_at === 'number',
    )
  );
}

/** Whether `presented` is one of the previous secrets not yet expired at `nowMs`. */
export function previousSecretMatches(previous: unknown, presented: string, nowMs: number): boolean {
  if (!isPreviousSecretList(previous)) return false;
  return previous.some((item) => item.expires_at * 1000 > nowMs && clientSecretMatches(item.hash, presented));
}

/**
 * The metadata members after a rotation to `newHash`: the current secret joins the previous ones
 * until `keepOldForSeconds` from now (0: it stops at once); expired ones are dropped.
 */
export function rotatedSecretMetadata(
  metadata: Record<string, unknown>,
  newHash: string,
  nowMs: number,
  keepOldForSeconds: number,
): { client_secret: string; secret_created_at: number; previous_secrets: PreviousSecret[] } {
  const now = Math.floor(nowMs / 1000);
  const kept = (isPreviousSecretList(metadata['previous_secrets']) ? metadata['previous_secrets'] : []).filter(
    (item) => item.expires_at > now,
  );
  const current = metadata['client_secret'];
  if (typeof current === 'string' && keepOldForSeconds > 0) {
    kept.unshift({ hash: current, created_at: secretCreatedAt(metadata), expires_at: now + keepOldForSeconds });
  }
  return { client_secret: newHash, secret_created_at: now, previous_secrets: kept };
}

/** The client's secrets as listed: the current one, then previous ones still working at `nowMs`. */
export function secretListing(metadata: Record<string, unknown>, nowMs: number): SecretListing[] {
  if (typeof metadata['client_secret'] !== 'string') return [];
  const created = secretCreatedAt(metadata);
  const listing: SecretListing[] = [{ status: 'current', createdAt: isoOrNull(created), expiresAt: null }];
  const previous = isPreviousSecretList(metadata['previous_secrets']) ? metadata['previous_secrets'] : [];
  for (const item of previous) {
    if (item.expires_at * 1000 <= nowMs) continue;
    listing.push({ status: 'previous', createdAt: isoOrNull(item.created_at), expiresAt: isoOrNull(item.expires_at) });
  }
  return listing;
}

/** Metadata without anything secret: the hashes of the current and previous secrets. */
export function withoutSecretHashes(metadata: Record<string, unknown>): Record<string, unknown> {
  const { client_secret: _current, previous_secrets: _previous, secret_created_at: _created, ...visible } = metadata;
  return visible;
}

/** Clients registered before rotation existed carry no date: 0, listed as null. */
function secretCreatedAt(metadata: Record<string, unknown>): number {
  const value = metadata['secret_created_at'];
  return typeof value === 'number' ? value : 0;
}

function isoOrNull(seconds: number): string | null {
  return seconds > 0 ? new Date(seconds * 1000).toISOString() : null;
}
