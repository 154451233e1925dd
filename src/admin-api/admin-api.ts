import type Koa from 'koa';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Config } from '../config/config.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Logger } from '../logging/logger.ts';
import { MembershipRepository } from '../organizations/memberships.ts';
import { organizationStatus } from '../organizations/organization-status.ts';
import { OrganizationRepository } from '../organizations/organizations.ts';
import { ADMIN_ROLE } from '../organizations/roles.ts';
import { ADMIN_TOKEN_ALG, adminScopesOf } from '../provider/admin-resource.ts';
import { loadPublishedPublicKeys } from '../provider/signing-keys.ts';
import type { Database } from '../storage/schema.ts';
import { AdminApi } from './admin-router.ts';
import { IdempotencyKeys } from './idempotency.ts';
import { AdminTokenVerifier } from './token-verifier.ts';

export interface AdminApiOptions {
  /** ISSUER (token issuer, links in mail), PRODUCT_NAME and the rest of the configuration. */
  config: Config;
  db: Kysely<Database>;
  provider: Provider;
  secretBox: SecretBox;
  audit: AuditTrail & Pick<AuditLog, 'query' | 'flush'>;
  logger: Logger;
  now?: (() => number) | undefined;
}

/** A resource's routes: one file per resource registers them (`clients-routes.ts`, …). */
export type RegisterRoutes = (api: AdminApi, options: AdminApiOptions & { now: () => number }) => void;

/**
 * The Admin API at /api/admin/v1 (src/admin-api/admin-router.ts), with the routes of `resources`.
 * app.ts mounts `middleware` before oidc-provider.
 */
export function createAdminApi(
  options: AdminApiOptions,
  resources: RegisterRoutes[],
): { api: AdminApi; middleware: Koa.Middleware } {
  const now = options.now ?? Date.now;
  const organizations = new OrganizationRepository(options.db);
  const memberships = new MembershipRepository(options.db);
  const { issuer } = options.config;
  const api = new AdminApi({
    issuer,
    verifier: new AdminTokenVerifier({
      issuer,
      algorithms: [ADMIN_TOKEN_ALG],
      keys: () => loadPublishedPublicKeys(options.db, options.secretBox),
      // oidc-provider stamps iat and exp from the real clock, so tokens are judged by it too.
      now: Date.now,
    }),
    idempotency: new IdempotencyKeys(options.db, options.secretBox, now),
    // A company admin counts while they hold the admin role of the organization and it is active.
    isOrganizationAdmin: async (userId, organizationId) => {
      const organization = await organizations.findById(organizationId);
      if (!organization || organizationStatus(organization.row, new Date(now())) !== 'active') return false;
      return (await memberships.membership(organizationId, userId))?.roles.includes(ADMIN_ROLE) ?? false;
    },
    currentAdminScopes: async (clientId) => {
      const client = await options.provider.Client.find(clientId);
      return client ? adminScopesOf(client) : undefined;
    },
    logger: options.logger,
  });
  for (const register of resources) register(api, { ...options, now });
  return { api, middleware: api.middleware() };
}
