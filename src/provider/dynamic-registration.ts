import { randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import { storedTokenId } from '../../adapters/postgres-adapter.ts';
import { clientMetadataProblem } from '../clients/client-metadata-rules.ts';
import { generateClientSecret, isHashedClientSecret } from '../clients/client-secret.ts';
import { SINGLE_USE_POLICY } from '../clients/initial-access-tokens.ts';
import type { ClientRegistrationMode } from '../config/environment-schema.ts';
import type { Logger } from '../logging/logger.ts';

/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592) at /reg, behind
 * CLIENT_REGISTRATION. The same rules as `umbral clients add` apply (client-metadata-rules.ts and
 * oidc-provider's validation); a registered client is a third party, so its users are asked to
 * consent. Its secret is stored hashed by the adapter, and its registration access token too.
 */

/** Spends an initial access token; true for exactly one caller (see takeInitialAccessToken). */
export type TakeInitialAccessToken = (value: string) => Promise<boolean>;

type Features = NonNullable<Configuration['features']>;

export function registrationFeatures(
  mode: ClientRegistrationMode,
  takeToken: TakeInitialAccessToken,
): Pick<Features, 'registration' | 'registrationManagement'> {
  const enabled = mode !== 'off';
  return {
    registration: {
      enabled,
      initialAccessToken: mode === 'token',
      // oidc-provider allows policies only with stored tokens, so not when open; kept when off, so
      // the CLI can make tokens before the server is switched to token.
      ...(mode === 'open' ? {} : { policies: { [SINGLE_USE_POLICY]: singleUse(takeToken) } }),
      // Recognisable in `umbral clients list`; 128 random bits.
      idFactory: () => `dyn-${randomBytes(16).toString('base64url')}`,
      secretFactory: generateClientSecret,
      issueRegistrationAccessToken: true,
    },
    // A new registration access token with every update: a copied old one stops working.
    registrationManagement: { enabled, rotateRegistrationAccessToken: true },
  };
}

type Policy = NonNullable<NonNullable<Features['registration']>['policies']>[string];

/** Spends the initial access token once the registration is known to be valid. */
function singleUse(takeToken: TakeInitialAccessToken): Policy {
  return async (ctx, properties) => {
    // The registration access token inherits the policy; its updates spend nothing.
    if (ctx.oidc.route !== 'registration') return;
    // Judged before the token is spent: a mistake in the metadata must not cost a new token.
    const problem = dynamicClientProblem(properties as Record<string, unknown>);
    if (problem) throw new errors.InvalidClientMetadata(problem);
    await ctx.oidc.provider.Client.validate(structuredClone(properties));
    const token = ctx.oidc.entities.InitialAccessToken?.jti;
    if (!token || !(await takeToken(token))) throw new errors.InvalidToken('initial access token already used');
  };
}

const REGISTRATION_ROUTES = new Set(['registration', 'client_update']);

/**
 * Umbral's own client properties, for a client that registers or updates itself: never first
 * party (consent is always shown) and never single-session (it would end the person's sessions at
 * other portals). Called from extraClientMetadata.validator, which sees every client built, so it
 * acts only inside the registration routes.
 */
export function checkSelfRegisteredClient(ctx: KoaContextWithOIDC | undefined, metadata: Record<string, unknown>) {
  if (!ctx?.oidc || !REGISTRATION_ROUTES.has(ctx.oidc.route)) return;
  const problem = dynamicClientProblem(metadata);
  if (problem) throw new errors.InvalidClientMetadata(problem);
  metadata['first_party'] = false;
}

function dynamicClientProblem(metadata: Record<string, unknown>): string | undefined {
  if (metadata['first_party'] === true) {
    return 'first_party cannot be registered dynamically: an operator registers first-party portals (umbral clients add)';
  }
  if (metadata['single_session'] === true) {
    return "single_session cannot be registered dynamically: it would end people's sessions at other portals";
  }
  if (metadata['collect_company'] === true) {
    return 'collect_company cannot be registered dynamically: an operator decides which portals create companies';
  }
  // An operator grants these (umbral clients add, the Admin API): never a client to itself.
  for (const key of ['admin_scopes', 'secret_created_at', 'previous_secrets']) {
    if (metadata[key] !== undefined) return `${key} cannot be registered dynamically`;
  }
  return clientMetadataProblem(metadata);
}

/**
 * Logs every registration, update and deletion (who: the initial access token's stored id, never
 * a token), and keeps the stored secret's hash out of read and update responses: the secret in
 * clear is shown once, when it is made.
 */
export function watchRegistrations(provider: Provider, mode: ClientRegistrationMode, logger: Logger): void {
  if (mode === 'off') return;
  provider.use(async (ctx, next) => {
    await next();
    const route = (ctx as KoaContextWithOIDC).oidc?.route;
    const body = ctx.body as Record<string, unknown> | undefined;
    if ((route === 'client' || route === 'client_update') && body && typeof body['client_secret'] === 'string') {
      if (isHashedClientSecret(body['client_secret'])) delete body['client_secret'];
    }
    // Rotated secrets' hashes (src/clients/client-secret-rotation.ts) are never shown either.
    if ((route === 'client' || route === 'client_update') && body) delete body['previous_secrets'];
  });
  const who = (ctx: KoaContextWithOIDC) => {
    const token = ctx.oidc.entities.InitialAccessToken?.jti;
    return {
      registration: mode,
      ...(token ? { initialAccessTokenId: storedTokenId('InitialAccessToken', token) } : {}),
      ip: ctx.ip,
    };
  };
  provider.on('registration_create.success', (ctx, client) =>
    logger.info(
      { ...who(ctx), clientId: client.clientId, clientName: client.clientName, redirectUris: client.redirectUris },
      'client registered itself',
    ),
  );
  provider.on('registration_update.success', (ctx, client) =>
    logger.info(
      { ip: ctx.ip, clientId: client.clientId, redirectUris: client.redirectUris },
      'client updated its registration',
    ),
  );
  provider.on('registration_delete.success', (ctx, client) =>
    logger.info({ ip: ctx.ip, clientId: client.clientId }, 'client deleted its registration'),
  );
  const refused = (action: string) => (ctx: KoaContextWithOIDC, error: Error) =>
    logger.info(
      {
        ...who(ctx),
        action,
        clientId: ctx.oidc.client?.clientId,
        error: (error as { error?: string }).error,
        detail: (error as { error_description?: string }).error_description,
      },
      'client registration request refused',
    );
  provider.on('registration_create.error', refused('create'));
  provider.on('registration_update.error', refused('update'));
  provider.on('registration_delete.error', refused('delete'));
}
