import type Koa from 'koa';
import { createAdminApi } from '../admin-api/admin-api.ts';
import type { AdminApi } from '../admin-api/admin-router.ts';
import { ADMIN_API_RESOURCES } from '../admin-api/resources.ts';
import { registerUsersRoutes } from '../admin-api/users-routes.ts';
import { type AdminConsoleDependencies, createAdminConsole } from '../admin-console/admin-console.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Config } from '../config/config.ts';
import type { Webhooks } from '../webhooks/create-webhooks.ts';

/**
 * What operators use, both on the same services (clients, users, organizations, webhooks, keys,
 * the audit log): the console at /admin, for people granted with `umbral operators add` who signed
 * in with a passkey or an authenticator app, and the Admin API at /api/admin/v1, for tokens of
 * clients registered with `--admin-scopes` (and company admins, for their own company). Mounted
 * before oidc-provider.
 */
export function mountOperatorSurfaces(
  app: Koa,
  deps: Omit<AdminConsoleDependencies, 'webhooks' | 'audit' | 'config'> & {
    config: Config;
    audit: AuditLog;
    webhooks: Webhooks;
  },
): AdminApi {
  const { config, db, provider, secretBox, audit, logger, now } = deps;
  app.use(createAdminConsole({ ...deps, webhooks: deps.webhooks.endpoints }).routes());
  // JSON and problem+json only, a file per resource (src/admin-api/resources.ts).
  const admin = createAdminApi({ config, db, provider, secretBox, audit, logger, now }, ADMIN_API_RESOURCES);
  // Its users' routes run on the same users service as the console (not a resource of its own making).
  registerUsersRoutes(admin.api, deps.users);
  app.use(admin.middleware);
  return admin.api;
}
