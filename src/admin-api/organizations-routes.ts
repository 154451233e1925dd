import type { AuditActor, AuditOrigin } from '../audit/audit-event.ts';
import { ContractScheduler } from '../organizations/contract-scheduler.ts';
import { OrganizationAdministration } from '../organizations/organization-administration.ts';
import { type OrganizationFields, parseName, parseSlug, slugFromName } from '../organizations/organization-input.ts';
import { OrganizationMail } from '../organizations/organization-mail.ts';
import { OrganizationSessions } from '../organizations/organization-sessions.ts';
import type { Organization } from '../organizations/organizations.ts';
import { queuedWebhookEvents } from '../webhooks/webhook-event-queue.ts';
import type { RegisterRoutes } from './admin-api.ts';
import { checkIfMatch } from './etag.ts';
import { adminsOf, OrganizationCreate, OrganizationUpdate, organizationFields } from './organization-fields.ts';
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
  const { db, logger } = options;
  const sessions = new OrganizationSessions({ provider: async () => options.provider, logger });
  const mail = new OrganizationMail({
    issuer: options.config.issuer,
    productName: options.config.productName,
    now: options.now,
  });
  // Companies activated here are announced (org.activated); the servers' workers deliver them.
  const webhooks = queuedWebhookEvents(db, logger);
  const contracts = new ContractScheduler({
    db,
    logger,
    mail,
    sessions,
    endWarningDays: options.config.orgEndWarningDays,
    now: options.now,
    webhooks,
  });
  // The CLI's own code path (`umbral orgs …`): the same checks, refusals, mail and activation.
  const administration = new OrganizationAdministration({ db, mail, sessions, contracts, now: options.now, webhooks });
  const orgs = administration.orgs;
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
    description:
      'Its designated admins (`admins`) are invited with the admin role and mailed the welcome, at once while it is active, else at its activation.',
    tag: TAG,
    scope: 'orgs:write',
    body: OrganizationCreate,
    responses: {
      201: { description: 'Added.', schema: OrganizationSchema },
      409: { description: 'The slug, tax id or an upstream binding is taken, or the admins do not fit the seats.' },
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
      };
      const admins = adminsOf(body);
      const { organization: org, mailed } = await asOrganizationProblem(() => administration.create(input, admins));
      record('org.added', org.row.id, request, {
        slug: org.row.slug,
        after: organizationJson(org, now()),
        admins: admins.length,
        mailed,
      });
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
      const admins = adminsOf(request.body);
      const { organization: after, mailed } = await asOrganizationProblem(() =>
        administration.update(before, changes, admins),
      );
      record('org.updated', before.row.id, request, {
        fields: Object.keys(request.body),
        before: organizationJson(before, now()),
        after: organizationJson(after, now()),
        admins: admins.length,
        mailed,
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
        if (action === 'suspend') {
          // As at the contract's end: members' sessions at the portals that require an organization end now.
          const { organization, portalSessions } = await asOrganizationProblem(() => administration.suspend(org));
          record('org.suspended', org.row.id, request, { portalSessions });
          return answer(organization);
        }
        // A welcome held back by the suspension goes now.
        const { organization, mailed } = await asOrganizationProblem(() => administration.resume(org));
        record('org.resumed', org.row.id, request, { mailed });
        return answer(organization);
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
      const { portalSessions } = await administration.remove(org);
      record('org.removed', org.row.id, request, { slug: org.row.slug, portalSessions });
      return { status: 204 };
    },
  });
};
