import type { RegisterRoutes } from './admin-api.ts';
import { registerAuditRoutes } from './audit-routes.ts';
import { registerClientsRoutes } from './clients-routes.ts';
import { registerDomainsRoutes } from './domains-routes.ts';
import { registerKeysRoutes } from './keys-routes.ts';
import { registerOrganizationMembersRoutes } from './organization-members-routes.ts';
import { registerOrganizationsRoutes } from './organizations-routes.ts';
import { registerRolesRoutes } from './roles-routes.ts';
import { registerWebhooksRoutes } from './webhooks-routes.ts';

/** The Admin API's resources, each registering its routes from a file of its own: a new one is one line here. */
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
