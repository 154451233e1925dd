import type { ClientRegistration } from '../clients/client-registration.ts';
import { ClientExistsError, ClientInputError } from '../clients/client-registration.ts';
import {
  type ClientChanges,
  ClientNotFoundError,
  ClientService,
  ClientVersionMismatchError,
  type ClientView,
  clientAsJson,
} from '../clients/client-service.ts';
import { adminScopesOf } from '../provider/admin-resource.ts';
import type { RegisterRoutes } from './admin-api.ts';
import type { AdminCaller } from './admin-caller.ts';
import type { AdminRequest } from './admin-route-spec.ts';
import type { AdminScope } from './admin-scopes.ts';
import {
  type ClientCreate,
  ClientCreateSchema,
  ClientIdParams,
  ClientSchema,
  type ClientUpdate,
  ClientUpdateSchema,
  ClientWithSecretSchema,
  SecretRotationSchema,
} from './clients-schemas.ts';
import { versionInIfMatch } from './etag.ts';
import { decodeCursor, encodeCursor, pageOf, pageQuery } from './pagination.ts';
import { Problem } from './problem.ts';
import { z } from './zod.ts';

const TAG = 'Portals (clients)';

const ListQuery = z.object({
  ...pageQuery,
  search: z.string().min(1).max(100).optional().openapi({ description: 'Part of the client id or name.' }),
  first_party: z.enum(['true', 'false']).optional(),
  grant_type: z.enum(['authorization_code', 'refresh_token', 'client_credentials']).optional(),
});

/** Portals: CRUD and secret rotation, over src/clients/client-service.ts (as the CLI and the console). */
export const registerClientsRoutes: RegisterRoutes = (api, options) => {
  const service = new ClientService({
    db: options.db,
    provider: options.provider,
    audit: options.audit,
    now: options.now,
  });
  const change = (request: AdminRequest<unknown, unknown, unknown>) => ({
    actor: request.actor,
    origin: request.origin,
    expectedVersion: versionInIfMatch(request.ifMatch),
    authorize: (before: Record<string, unknown>, after?: Record<string, unknown>) =>
      assertWithinCallerScopes(request.caller, adminScopesOf(before), after && adminScopesOf(after)),
  });

  api.route({
    method: 'get',
    path: '/clients',
    operationId: 'listClients',
    summary: 'List portals',
    tag: TAG,
    scope: 'clients:read',
    query: ListQuery,
    responses: { 200: { description: 'A page of portals.', schema: pageOf(ClientSchema, 'ClientPage') } },
    handler: async ({ query }) => {
      const page = await service.list({
        limit: query.limit,
        after: query.cursor ? decodeCursor(query.cursor)[1] : undefined,
        search: query.search,
        firstParty: query.first_party === undefined ? undefined : query.first_party === 'true',
        grantType: query.grant_type,
      });
      return {
        status: 200,
        body: {
          items: page.clients.map(clientAsJson),
          ...(page.next ? { next_cursor: encodeCursor(['client', page.next]) } : {}),
        },
      };
    },
  });

  api.route({
    method: 'post',
    path: '/clients',
    operationId: 'createClient',
    summary: 'Register a portal',
    description: 'Every option of `umbral clients add`. The secret, when there is one, is in this answer only.',
    tag: TAG,
    scope: 'clients:write',
    body: ClientCreateSchema,
    responses: {
      201: { description: 'Registered.', schema: ClientWithSecretSchema },
      409: { description: 'A client with this id exists.' },
    },
    handler: async (request) => {
      assertWithinCallerScopes(request.caller, request.body.admin_scopes);
      const { client, secret } = await asProblem(() =>
        service.create(registrationFrom(request.body), { actor: request.actor, origin: request.origin }),
      );
      return {
        status: 201,
        body: { client: clientAsJson(client), ...(secret ? { client_secret: secret } : {}) },
        etag: etag(client),
        location: `/clients/${encodeURIComponent(String(client.metadata['client_id']))}`,
      };
    },
  });

  api.route({
    method: 'get',
    path: '/clients/{client_id}',
    operationId: 'getClient',
    summary: 'Read a portal',
    tag: TAG,
    scope: 'clients:read',
    params: ClientIdParams,
    etag: 'answers',
    responses: { 200: { description: 'The portal.', schema: ClientSchema } },
    handler: async ({ params }) => {
      const client = await asProblem(() => service.get(params.client_id));
      return { status: 200, body: clientAsJson(client), etag: etag(client) };
    },
  });

  api.route({
    method: 'patch',
    path: '/clients/{client_id}',
    operationId: 'updateClient',
    summary: 'Change a portal',
    description:
      'Fields given replace the stored ones; null removes an optional one. The secret changes by rotation only.',
    tag: TAG,
    scope: 'clients:write',
    params: ClientIdParams,
    body: ClientUpdateSchema,
    etag: 'if-match',
    responses: { 200: { description: 'The portal as changed.', schema: ClientSchema } },
    handler: async (request) => {
      const client = await asProblem(() =>
        service.update(request.params.client_id, changesFrom(request.body), change(request)),
      );
      return { status: 200, body: clientAsJson(client), etag: etag(client) };
    },
  });

  api.route({
    method: 'delete',
    path: '/clients/{client_id}',
    operationId: 'removeClient',
    summary: 'Remove a portal, with its tokens and grants',
    tag: TAG,
    scope: 'clients:write',
    params: ClientIdParams,
    etag: 'if-match',
    responses: { 204: { description: 'Removed.' } },
    handler: async (request) => {
      await asProblem(() => service.remove(request.params.client_id, change(request)));
      return { status: 204 };
    },
  });

  api.route({
    method: 'post',
    path: '/clients/{client_id}/secret-rotations',
    operationId: 'rotateClientSecret',
    summary: "Rotate a portal's secret",
    description:
      'A new secret, shown once; the current one keeps working until keep_old_for_seconds from now (7 days by default).',
    tag: TAG,
    scope: 'clients:write',
    params: ClientIdParams,
    body: SecretRotationSchema,
    responses: {
      201: { description: 'The new secret, and the portal with both listed.', schema: ClientWithSecretSchema },
    },
    handler: async (request) => {
      const { client, secret } = await asProblem(() =>
        service.rotateSecret(
          request.params.client_id,
          { keepOldForSeconds: request.body.keep_old_for_seconds },
          change(request),
        ),
      );
      return { status: 201, body: { client: clientAsJson(client), client_secret: secret }, etag: etag(client) };
    },
  });
};

/**
 * A client may hand out only the admin scopes it holds: without this, clients:write would be every
 * scope (make a client with keys:write, or rotate the secret of one that has it). So it may not
 * create, change, rotate or remove a client holding (or given) a scope it lacks itself.
 */
function assertWithinCallerScopes(
  caller: AdminCaller,
  ...scopeLists: Array<readonly string[] | null | undefined>
): void {
  if (caller.kind !== 'client') return;
  const beyond = scopeLists.flatMap((list) => list ?? []).find((scope) => !caller.scopes.has(scope as AdminScope));
  if (beyond) {
    throw new Problem('forbidden', `this concerns the admin scope ${beyond}, which your own token does not have`);
  }
}

/** The service's errors as problems, naming the field at fault. */
async function asProblem<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ClientExistsError) throw new Problem('conflict', error.message);
    if (error instanceof ClientInputError) {
      throw error.field
        ? Problem.field('body', `/${error.field}`, error.message)
        : new Problem('validation', error.message);
    }
    if (error instanceof ClientNotFoundError) throw new Problem('not_found', error.message);
    if (error instanceof ClientVersionMismatchError) {
      throw new Problem(
        'precondition_failed',
        'the portal changed since it was read: read it again and re-apply the change',
      );
    }
    throw error;
  }
}

const etag = (client: ClientView) => `"${client.version}"`;

function keysFrom(body: { jwks?: { keys: unknown[] } | null | undefined; jwks_uri?: string | null | undefined }) {
  if (body.jwks && body.jwks_uri) {
    throw Problem.field('body', '/jwks', 'give jwks or jwks_uri, not both');
  }
  if (body.jwks_uri) return { jwksUri: body.jwks_uri };
  if (body.jwks) return { jwks: body.jwks as never };
  return undefined;
}

function registrationFrom(body: ClientCreate): ClientRegistration {
  const adminScopes = body.admin_scopes;
  return {
    clientId: body.client_id,
    clientSecret: body.client_secret,
    name: body.client_name,
    redirectUris: body.redirect_uris,
    postLogoutRedirectUris: body.post_logout_redirect_uris,
    backchannelLogoutUri: body.backchannel_logout_uri,
    // Admin clients are machines: client_credentials alone unless told otherwise.
    grantTypes:
      body.grant_types ?? (adminScopes?.length ? ['client_credentials'] : ['authorization_code', 'refresh_token']),
    firstParty: body.first_party,
    singleSession: body.single_session,
    requireMfa: body.require_mfa,
    public: body.public,
    keys: keysFrom(body),
    idTokenSigningAlg: body.id_token_signed_response_alg,
    strictIdTokenClaims: body.strict_id_token_claims,
    pkce: body.pkce,
    organization: body.organization,
    collectCompany: body.collect_company,
    initiateLoginUri: body.initiate_login_uri,
    logoUri: body.logo_uri,
    clientUri: body.client_uri,
    tosUri: body.tos_uri,
    policyUri: body.policy_uri,
    brandColor: body.brand_color,
    adminScopes,
  };
}

function changesFrom(body: ClientUpdate): ClientChanges {
  const changes: ClientChanges = {
    firstParty: body.first_party,
    redirectUris: body.redirect_uris,
    postLogoutRedirectUris: body.post_logout_redirect_uris,
    grantTypes: body.grant_types,
    name: body.client_name,
    backchannelLogoutUri: body.backchannel_logout_uri,
    singleSession: body.single_session,
    requireMfa: body.require_mfa,
    idTokenSigningAlg: body.id_token_signed_response_alg,
    strictIdTokenClaims: body.strict_id_token_claims,
    pkce: body.pkce,
    organization: body.organization,
    collectCompany: body.collect_company,
    initiateLoginUri: body.initiate_login_uri,
    logoUri: body.logo_uri,
    clientUri: body.client_uri,
    tosUri: body.tos_uri,
    policyUri: body.policy_uri,
    brandColor: body.brand_color,
    adminScopes: body.admin_scopes,
  };
  if (body.jwks !== undefined || body.jwks_uri !== undefined) {
    changes.keys = body.jwks === null && body.jwks_uri === null ? null : keysFrom(body);
  }
  return changes;
}
