import type Provider from 'oidc-provider';
import { storedTokenId } from '../../adapters/postgres-adapter.ts';

/**
 * The policy every initial access token carries (src/provider/dynamic-registration.ts spends the
 * token when the registration is valid): one token, one registered client. A token that leaks
 * after use is worth nothing, and each registration traces back to one operator's command.
 */
export const SINGLE_USE_POLICY = 'umbral-single-use';

export interface IssuedInitialAccessToken {
  /** The bearer token, shown once: the database keeps its SHA-256 only (postgres-adapter.ts). */
  token: string;
  /** What logs and the database name it by. */
  id: string;
  expiresAt: Date;
}

/** Stored through oidc-provider's InitialAccessToken model, so its registration endpoint finds it. */
export async function issueInitialAccessToken(
  provider: Provider,
  expiresInSeconds: number,
): Promise<IssuedInitialAccessToken> {
  const exp = Math.floor(Date.now() / 1000) + expiresInSeconds;
  const model = new provider.InitialAccessToken({ policies: [SINGLE_USE_POLICY] });
  model.exp = exp; // the payload's exp and the row's expires_at both follow it
  const token = await model.save();
  return { token, id: storedTokenId('InitialAccessToken', token), expiresAt: new Date(exp * 1000) };
}
