import type { RegisterRoutes } from './admin-api.ts';
import { registerClientsRoutes } from './clients-routes.ts';

/** The Admin API's resources, each registering its routes from a file of its own: a new one is one line here. */
export const ADMIN_API_RESOURCES: RegisterRoutes[] = [registerClientsRoutes];
