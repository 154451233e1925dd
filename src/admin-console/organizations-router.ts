import Router from '@koa/router';
import type { Kysely } from 'kysely';
import { MembershipRepository } from '../organizations/memberships.ts';
import { organizationStatus } from '../organizations/organization-status.ts';
import { OrganizationRepository } from '../organizations/organizations.ts';
import type { Database } from '../storage/schema.ts';
import type { ConsoleKit } from './console-pages.ts';

/** /admin/organizations: the companies, their contract status and members (read only; changes are the CLI's and the API's). */
export function organizationsRouter(kit: ConsoleKit, deps: { db: Kysely<Database>; now: () => number }): Router {
  const organizations = new OrganizationRepository(deps.db);
  const memberships = new MembershipRepository(deps.db);
  const router = new Router({ prefix: '/admin/organizations' });
  router.use(kit.guard);

  router.get('/', async (ctx) => {
    const now = new Date(deps.now());
    const list = (await organizations.list()).map(({ row }) => ({
      id: row.id,
      name: row.name,
      slug: row.slug,
      country: row.country,
      status: organizationStatus(row, now),
    }));
    await kit.render(ctx, 'organizations', 'admin-organizations', { organizations: list });
  });

  router.get('/:id', async (ctx) => {
    const found = await organizations.findById(ctx.params['id'] ?? '');
    if (!found) return kit.render(ctx, 'organizations', 'admin-not-found', {}, 404);
    const { row } = found;
    await kit.render(ctx, 'organizations', 'admin-organization', {
      organization: {
        id: row.id,
        name: row.name,
        slug: row.slug,
        legalName: row.legal_name,
        country: row.country,
        status: organizationStatus(row, new Date(deps.now())),
        activatesAt: new Date(row.activates_at),
        endsAt: row.ends_at ? new Date(row.ends_at) : null,
        seatLimit: row.seat_limit,
        requireMfa: row.require_mfa,
        signInMethods: found.signInMethods,
      },
      members: await memberships.members(row.id),
    });
  });
  return router;
}
