import { OrganizationInputError } from '../organizations/organization-errors.ts';
import { parsePermission, parseRoleName, type Role, RoleRepository } from '../organizations/roles.ts';
import type { RegisterRoutes } from './admin-api.ts';
import { parsedField } from './organization-json.ts';
import { Problem } from './problem.ts';
import { z } from './zod.ts';

const RoleSchema = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    permissions: z.array(z.string()),
    built_in: z.boolean(),
  })
  .openapi('Role');

const roleJson = (role: Role) => ({
  name: role.name,
  description: role.description,
  permissions: role.permissions,
  built_in: role.builtIn,
});

/** Role templates every organization uses (what `umbral roles add|list|remove` does). */
export const registerRolesRoutes: RegisterRoutes = (api, options) => {
  const roles = new RoleRepository(options.db);

  api.route({
    method: 'get',
    path: '/roles',
    operationId: 'listRoles',
    summary: 'Role templates (admin and member are built in)',
    tag: 'Roles',
    scope: 'orgs:read',
    responses: { 200: { description: 'Every role.', schema: z.object({ items: z.array(RoleSchema) }) } },
    handler: async () => ({ status: 200, body: { items: (await roles.list()).map(roleJson) } }),
  });

  api.route({
    method: 'post',
    path: '/roles',
    operationId: 'addRole',
    summary: 'Add a role template',
    tag: 'Roles',
    scope: 'roles:write',
    body: z
      .strictObject({
        name: z.string().min(1).max(40),
        description: z.string().trim().max(200).optional(),
        permissions: z.array(z.string().min(1).max(100)).max(100).default([]),
      })
      .openapi('RoleCreate'),
    responses: { 201: { description: 'Added.', schema: RoleSchema }, 409: { description: 'The name is taken.' } },
    handler: async (request) => {
      const { body } = request;
      const name = parsedField('name', () => parseRoleName(body.name));
      const permissions = body.permissions.map((p, i) => parsedField(`permissions/${i}`, () => parsePermission(p)));
      const role = await conflictOr(() => roles.add({ name, permissions, description: body.description }));
      options.audit.record({ type: 'role.added', actor: request.actor, ...request.origin, data: roleJson(role) });
      return { status: 201, body: roleJson(role), location: `/roles/${role.name}` };
    },
  });

  api.route({
    method: 'delete',
    path: '/roles/{name}',
    operationId: 'removeRole',
    summary: 'Remove a role template no member or invitation holds',
    tag: 'Roles',
    scope: 'roles:write',
    params: z.object({ name: z.string().min(1).max(40) }),
    responses: { 204: { description: 'Removed.' } },
    handler: async (request) => {
      const { name } = request.params;
      if (!(await roles.list()).some((role) => role.name === name)) {
        throw new Problem('not_found', `no role named "${name}"`);
      }
      await conflictOr(() => roles.remove(name));
      options.audit.record({ type: 'role.removed', actor: request.actor, ...request.origin, data: { role: name } });
      return { status: 204 };
    },
  });
};

/** The roles model's refusals (taken, built in, in use) are conflicts with the current state. */
async function conflictOr<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof OrganizationInputError) throw new Problem('conflict', error.message);
    throw error;
  }
}
