import type { Kysely } from 'kysely';
import type { AuditActor, AuditOrigin } from '../audit/audit-event.ts';
import { type OrganizationFields, parseName, parseSlug, slugFromName } from '../organizations/organization-input.ts';
import { OrganizationSessions } from '../organizations/organization-sessions.ts';
import { type Organization, OrganizationRepository } from '../organizations/organizations.ts';
import type { Database } from '../storage/schema.ts';
import type { RegisterRoutes } from './admin-api.ts';
import { checkIfMatch } from './etag.ts';
import { OrganizationCreate, OrganizationUpdate, organizationFields } from './organization-fields.ts';
import {
  asOrganizationProblem,
  OrganizationParams,
  OrganizationSchema,
  organizationEtag,
  organizationJson,
  parsedField,
} from './organization-json.ts';
import { decodeCursor, encodeCursor, pageOf, pageQuery } from './pagination.ts';
import { Problem } from './problem.ts';
import { z } from './zod.ts';

const TAG = 'Organizations';

/**
 * Companies, over src/organizations (what `umbral orgs add|list|show|update|suspend|resume|remove`
 * does). A company admin's token reads its own organization; the contract (dates, seats, hold,
 * removal) stays the operator's.
 */
export const registerOrganizationsRoutes: RegisterRoutes = (api, options) => {
  const orgs = new OrganizationRepository(options.db);
  const sessions = new OrganizationSessions({ provider: async () => options.provider, logger: options.logger });
  const now = () => new Date(options.now());
  const find = async (id: string): Promise<Organization> => {
    const org = await orgs.findById(id);
    if (!org) throw new Problem('not_found', `no organization with id ${id}`);
    return org;
  };
  const answer = (org: Organization, status = 200) => ({
    status,
    body: organizationJson(org, now()),
    etag: organizationEtag(org),
  });
  const record = (
    type: string,
    organizationId: string,
    request: { actor: AuditActor; origin: AuditOrigin },
    data: Record<string, unknown>,
  ) => options.audit.record({ type, actor: request.actor, ...request.origin, organizationId, data });

  api.route({
    method: 'get',
    path: '/organizations',
    operationId: 'listOrganizations',
    summary: 'List organizations',
    tag: TAG,
    scope: 'orgs:read',
    query: z.object({ ...pageQuery, status: z.enum(['scheduled', 'active', 'suspended', 'ended']).optional() }),
    responses: { 200: { description: 'A page, by slug.', schema: pageOf(OrganizationSchema, 'OrganizationPage') } },
    handler: async ({ query }) => {
      const after = query.cursor ? decodeCursor(query.cursor)[1] : undefined;
      const all = (await orgs.list())
        .map((org) => organizationJson(org, now()))
        .filter((org) => !query.status || org.status === query.status)
        .sort((a, b) => a.slug.localeCompare(b.slug))
        .filter((org) => after === undefined || org.slug > after);
      const items = all.slice(0, query.limit);
      const last = items.at(-1);
      return {
        status: 200,
        body: {
          items,
          ...(all.length > query.limit && last ? { next_cursor: encodeCursor(['slug', last.slug]) } : {}),
        },
      };
    },
  });

  api.route({
    method: 'post',
    path: '/organizations',
    operationId: 'createOrganization',
    summary: 'Add an organization',
    description: 'Its admins are invited with POST /organizations/{organization_id}/invitations and the admin role.',
    tag: TAG,
    scope: 'orgs:write',
    body: OrganizationCreate,
    responses: {
      201: { description: 'Added.', schema: OrganizationSchema },
      409: { description: 'The slug is taken.' },
    },
    handler: async (request) => {
      const { body } = request;
      const name = parsedField('name', () => parseName(body.name));
      const input = {
        ...organizationFields(body, options.config.companySegments),
        name,
        slug:
          body.slug === undefined
            ? parsedField('name', () => slugFromName(name))
            : parsedField('slug', () => parseSlug(body.slug!)),
        activatesAt: body.activates_at ? new Date(body.activates_at) : now(),
      };
      if (input.homeClientId) await assertClientExists(options.db, input.homeClientId);
      await assertUnbound(orgs, input, undefined);
      const org = await asOrganizationProblem(() => orgs.create(input));
      record('org.added', org.row.id, request, { slug: org.row.slug, after: organizationJson(org, now()) });
      return { ...answer(org, 201), location: `/organizations/${org.row.id}` };
    },
  });

  api.route({
    method: 'get',
    path: '/organizations/{organization_id}',
    operationId: 'getOrganization',
    summary: 'Read an organization',
    tag: TAG,
    scope: 'orgs:read',
    organizationParam: 'organization_id',
    params: OrganizationParams,
    etag: 'answers',
    responses: { 200: { description: 'The organization.', schema: OrganizationSchema } },
    handler: async ({ params }) => answer(await find(params.organization_id)),
  });

  api.route({
    method: 'patch',
    path: '/organizations/{organization_id}',
    operationId: 'updateOrganization',
    summary: 'Change an organization',
    description: 'Fields given replace the stored ones; null clears an optional one.',
    tag: TAG,
    scope: 'orgs:write',
    params: OrganizationParams,
    body: OrganizationUpdate,
    etag: 'if-match',
    responses: { 200: { description: 'The organization as changed.', schema: OrganizationSchema } },
    handler: async (request) => {
      const before = await find(request.params.organization_id);
      checkIfMatch(request.ifMatch, organizationEtag(before));
      const changes: OrganizationFields = {
        ...organizationFields(request.body, options.config.companySegments),
        ...(request.body.name !== undefined ? { name: parsedField('name', () => parseName(request.body.name!)) } : {}),
        ...(request.body.slug !== undefined ? { slug: parsedField('slug', () => parseSlug(request.body.slug!)) } : {}),
      };
      if (changes.endsAt && changes.endsAt <= now()) {
        throw Problem.field(
          'body',
          '/ends_at',
          'ends_at must be in the future (suspend or remove the organization instead)',
        );
      }
      if (changes.homeClientId) await assertClientExists(options.db, changes.homeClientId);
      await assertUnbound(orgs, changes, before.row.id);
      const after = await asOrganizationProblem(() => orgs.update(before.row.id, changes));
      record('org.updated', before.row.id, request, {
        fields: Object.keys(request.body),
        before: organizationJson(before, now()),
        after: organizationJson(after, now()),
      });
      return answer(after);
    },
  });

  for (const action of ['suspend', 'resume'] as const) {
    api.route({
      method: 'post',
      path: `/organizations/{organization_id}/${action === 'suspend' ? 'suspension' : 'resumption'}`,
      operationId: `${action}Organization`,
      summary:
        action === 'suspend'
          ? 'Suspend an organization (its members sessions at organization portals end)'
          : 'Resume a suspended organization',
      tag: TAG,
      scope: 'orgs:write',
      params: OrganizationParams,
      responses: { 200: { description: 'The organization now.', schema: OrganizationSchema } },
      handler: async (request) => {
        const org = await find(request.params.organization_id);
        const changed = action === 'suspend' ? await orgs.suspend(org.row.id) : await orgs.resume(org.row.id);
        if (!changed)
          throw new Problem('conflict', `${org.row.slug} is ${action === 'suspend' ? 'already' : 'not'} suspended`);
        let portalSessions = 0;
        if (action === 'suspend') {
          // As at the contract's end: members' sessions at the portals that require an organization end now.
          const logouts = await sessions.takeOut(options.db, { organizationId: org.row.id }, 'required');
          sessions.deliver(logouts);
          portalSessions = logouts.length;
        }
        record(`org.${action === 'suspend' ? 'suspended' : 'resumed'}`, org.row.id, request, { portalSessions });
        return answer(await find(org.row.id));
      },
    });
  }

  api.route({
    method: 'delete',
    path: '/organizations/{organization_id}',
    operationId: 'removeOrganization',
    summary: 'Remove an organization, its memberships and invitations',
    tag: TAG,
    scope: 'orgs:write',
    params: OrganizationParams,
    etag: 'if-match',
    responses: { 204: { description: 'Removed.' } },
    handler: async (request) => {
      const org = await find(request.params.organization_id);
      checkIfMatch(request.ifMatch, organizationEtag(org));
      const logouts = await sessions.takeOut(options.db, { organizationId: org.row.id }, 'required');
      await orgs.remove(org.row.id);
      sessions.deliver(logouts);
      record('org.removed', org.row.id, request, { slug: org.row.slug, portalSessions: logouts.length });
      return { status: 204 };
    },
  });
};

async function assertClientExists(db: Kysely<Database>, clientId: string) {
  const client = await db
    .selectFrom('clients')
    .select('client_id')
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  if (!client) throw Problem.field('body', '/home_client_id', `no client with id ${clientId}`);
}

/** A Microsoft tenant or Google Workspace domain joins one organization only. */
async function assertUnbound(orgs: OrganizationRepository, fields: OrganizationFields, ownId: string | undefined) {
  for (const [provider, values] of [
    ['microsoft', fields.microsoftTenants ?? []],
    ['google', fields.googleDomains ?? []],
  ] as const) {
    for (const value of values) {
      const bound = await orgs.boundTo(provider, value);
      if (bound && bound.row.id !== ownId) {
        throw new Problem('conflict', `${value} is already bound to another organization (${bound.row.slug})`);
      }
    }
  }
}
