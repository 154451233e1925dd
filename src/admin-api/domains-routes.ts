import { DomainRouteInputError, DomainRoutes, normalizeDomain } from '../federation/domain-routes.ts';
import { isDomainName, PROVIDERS } from '../federation/federation-settings.ts';
import type { RegisterRoutes } from './admin-api.ts';
import { Problem } from './problem.ts';
import { z } from './zod.ts';

const DomainRouteSchema = z
  .object({ domain: z.string(), provider: z.enum(PROVIDERS), created_at: z.string() })
  .openapi('DomainRoute');

const TAG = 'Email-domain routing';

/** Email domains whose people sign in at Google or Microsoft (what `umbral domains add|list|remove` does). */
export const registerDomainsRoutes: RegisterRoutes = (api, options) => {
  const routes = new DomainRoutes(options.db);
  const checked = (value: string, where: 'body' | 'path') => {
    const domain = normalizeDomain(value);
    if (!isDomainName(domain)) throw Problem.field(where, '/domain', `"${value}" is not a domain name (e.g. acme.com)`);
    return domain;
  };
  const json = (route: { domain: string; provider: string; created_at: Date }) => ({
    domain: route.domain,
    provider: route.provider,
    created_at: new Date(route.created_at).toISOString(),
  });

  api.route({
    method: 'get',
    path: '/domain-routes',
    operationId: 'listDomainRoutes',
    summary: 'Routed email domains',
    tag: TAG,
    scope: 'orgs:read',
    responses: { 200: { description: 'Every route.', schema: z.object({ items: z.array(DomainRouteSchema) }) } },
    handler: async () => ({ status: 200, body: { items: (await routes.list()).map(json) } }),
  });

  api.route({
    method: 'post',
    path: '/domain-routes',
    operationId: 'addDomainRoute',
    summary: "Route an email domain's sign-ins to Google or Microsoft",
    tag: TAG,
    scope: 'orgs:write',
    body: z
      .strictObject({ domain: z.string().min(1).max(253), provider: z.enum(PROVIDERS) })
      .openapi('DomainRouteCreate'),
    responses: { 201: { description: 'Routed.', schema: DomainRouteSchema }, 409: { description: 'Already routed.' } },
    handler: async (request) => {
      const domain = checked(request.body.domain, 'body');
      const route = await conflictOr(() => routes.add(domain, request.body.provider));
      options.audit.record({
        type: 'domain.added',
        actor: request.actor,
        ...request.origin,
        data: { domain, provider: route.provider },
      });
      return { status: 201, body: json(route), location: `/domain-routes/${domain}` };
    },
  });

  api.route({
    method: 'delete',
    path: '/domain-routes/{domain}',
    operationId: 'removeDomainRoute',
    summary: 'Stop routing an email domain (its people sign in with a password again)',
    tag: TAG,
    scope: 'orgs:write',
    params: z.object({ domain: z.string().min(1).max(253) }),
    responses: { 204: { description: 'Removed.' } },
    handler: async (request) => {
      const domain = checked(request.params.domain, 'path');
      if (!(await routes.list()).some((route) => route.domain === domain)) {
        throw new Problem('not_found', `${domain} is not routed`);
      }
      await conflictOr(() => routes.remove(domain));
      options.audit.record({ type: 'domain.removed', actor: request.actor, ...request.origin, data: { domain } });
      return { status: 204 };
    },
  });
};

async function conflictOr<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainRouteInputError) throw new Problem('conflict', error.message);
    throw error;
  }
}
