import type { Middleware } from 'koa';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { BrowserBinding } from './browser-binding.ts';
import { DomainRoutes } from './domain-routes.ts';
import { FederatedIdentities } from './federated-identities.ts';
import type { Federation } from './federated-login.ts';
import { FederationLogins } from './federation-logins.ts';
import { UpstreamClients } from './upstream-client.ts';

export function createFederation(options: { config: Config; db: Kysely<Database>; logger: Logger }): Federation {
  const { config, db, logger } = options;
  return {
    settings: config.federation,
    upstreams: new UpstreamClients(config.federation, logger),
    logins: new FederationLogins(db),
    identities: new FederatedIdentities(db),
    domains: new DomainRoutes(db),
    binding: new BrowserBinding(config.secure),
  };
}

/** The "Continuar con Google/Microsoft" buttons of the login and sign-up pages show the configured providers only. */
export function exposeProviders(federation: Federation): Middleware {
  const providers = federation.upstreams.names();
  return async (ctx, next) => {
    ctx.state['federationProviders'] = providers;
    await next();
  };
}
