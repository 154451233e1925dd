import type { RegisterRoutes } from './admin-api.ts';
import { registerAuditRoutes } from './audit-routes.ts';
import { registerClientsRoutes } from './clients-routes.ts';
import { registerDomainsRoutes } from './domains-routes.ts';
import { registerKeysRoutes } from './keys-routes.ts';
import { registerOrganizationMembersRoutes } from './organization-members-routes.ts';
import { registerOrganizationsRoutes } from './organizations-routes.ts';
import { registerRolesRoutes } from './roles-routes.ts';
import { registerWebhooksRoutes } from './webhooks-routes.ts';

/**
 * The Admin API's resources, each registering its routes from a file of its own: a new one is one
 * line here. A resource file exports a `RegisterRoutes` (see clients-routes.ts): it builds its
 * domain service from the options, then calls `api.route({...})` per route with its zod schemas
 * (path `params`, `query`, `body`, `responses`), the `scope` a client's token needs (and
 * `organizationParam` when a company admin may call it), and a handler that returns
 * `{ status, body, etag?, location? }` or throws a `Problem`. Its changes go to `options.audit`
 * with `request.actor`. test/admin-api checks that the OpenAPI document describes every route and
 * that bad input to each one is refused (add the new routes' cases to its table).
 */
export const ADMIN_API_RESOURCES: RegisterRoutes[] = [
  registerClientsRoutes,
  registerOrganizationsRoutes,
  registerOrganizationMembersRoutes,
  registerRolesRoutes,
  registerDomainsRoutes,
  registerKeysRoutes,
  registerAuditRoutes,
  registerWebhooksRoutes,
];
