import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { jsonArray } from './json-array.ts';
import { OrganizationInputError } from './organization-errors.ts';

/**
 * Role templates: defined once for the whole deployment and used by every organization (as
 * Logto's organization template). `admin` and `member` are built in; operators add their own.
 */
export interface Role {
  name: string;
  description: string | null;
  permissions: string[];
  builtIn: boolean;
}

export const ADMIN_ROLE = 'admin';
export const MEMBER_ROLE = 'member';

const ROLE_NAME = /^[a-z][a-z0-9_-]{0,39}$/;
/** Permissions as portals write them: `conversations:assign`, `reports.read`. */
const PERMISSION = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

export function parseRoleName(value: string): string {
  const name = value.trim();
  if (!ROLE_NAME.test(name)) {
    throw new OrganizationInputError(
      `"${value}" is not a valid role name: a lower-case letter, then letters, digits, "-" or "_" (at most 40)`,
    );
  }
  return name;
}

export function parsePermission(value: string): string {
  const permission = value.trim();
  if (!PERMISSION.test(permission)) {
    throw new OrganizationInputError(`"${value}" is not a valid permission (such as conversations:assign)`);
  }
  return permission;
}

export class RoleRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<Role[]> {
    const rows = await this.db.selectFrom('roles').selectAll().orderBy('built_in', 'desc').orderBy('name').execute();
    return rows.map(toRole);
  }

  async add(input: { name: string; permissions: string[]; description?: string | undefined }): Promise<Role> {
    const row = await this.db
      .insertInto('roles')
      .values({
        name: input.name,
        description: input.description?.trim() || null,
        permissions: JSON.stringify([...new Set(input.permissions)].sort()),
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new OrganizationInputError(`a role named "${input.name}" already exists`);
    return toRole(row);
  }

  /** Refused for a built-in role, and while any membership or pending invitation holds it. */
  async remove(name: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const role = await trx.selectFrom('roles').selectAll().where('name', '=', name).forUpdate().executeTakeFirst();
      if (!role) throw new OrganizationInputError(`no role named "${name}"`);
      if (role.built_in) throw new OrganizationInputError(`"${name}" is built in and cannot be removed`);
      const holds = sql<boolean>`roles @> ${JSON.stringify([name])}::jsonb`;
      const member = await trx
        .selectFrom('organization_memberships')
        .select('user_id')
        .where('removed_at', 'is', null)
        .where(holds)
        .executeTakeFirst();
      const invited = await trx
        .selectFrom('organization_invitations')
        .select('id')
        .where('status', '=', 'pending')
        .where(holds)
        .executeTakeFirst();
      if (member || invited) {
        throw new OrganizationInputError(
          `role "${name}" is in use by members or pending invitations: remove it from them first`,
        );
      }
      await trx.deleteFrom('roles').where('name', '=', name).execute();
    });
  }

  /** Every given name must exist; the result is deduplicated and sorted. */
  async assertExist(names: string[]): Promise<string[]> {
    const unique = [...new Set(names)].sort();
    if (!unique.length) return unique;
    const rows = await this.db.selectFrom('roles').select('name').where('name', 'in', unique).execute();
    const known = new Set(rows.map((row) => row.name));
    const unknown = unique.filter((name) => !known.has(name));
    if (unknown.length) {
      throw new OrganizationInputError(
        `unknown role${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (see umbral roles list)`,
        'unknown_role',
      );
    }
    return unique;
  }

  /** The union of the roles' permissions, sorted: what `org_permissions` carries. */
  async permissionsOf(roleNames: string[]): Promise<string[]> {
    if (!roleNames.length) return [];
    const rows = await this.db.selectFrom('roles').select('permissions').where('name', 'in', roleNames).execute();
    return [...new Set(rows.flatMap((row) => jsonArray(row.permissions)))].sort();
  }
}

function toRole(row: { name: string; description: string | null; permissions: unknown; built_in: boolean }): Role {
  return {
    name: row.name,
    description: row.description,
    permissions: jsonArray(row.permissions),
    builtIn: row.built_in,
  };
}
