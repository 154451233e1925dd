import type { ActiveSession } from '../sessions/session-directory.ts';
import { type AdministrativeOrigin, type AdminUser, UserAdministrationError, versionOf } from '../users/admin-user.ts';
import type { UserAdministration } from '../users/user-administration.ts';
import type { AdminApi, AdminRequest } from './admin-router.ts';
import { AuditEventSchema, eventJson } from './audit-routes.ts';
import { pageOf } from './pagination.ts';
import { Problem } from './problem.ts';
import {
  FactorResetSchema,
  SessionListSchema,
  SessionsEndedSchema,
  SignInEventQuery,
  UserCreateSchema,
  UserDetailsSchema,
  UserIdParams,
  UserListQuery,
  UserSchema,
  UserSessionParams,
  UserStateSchema,
  UserUpdateSchema,
  withDates,
} from './users-schemas.ts';

const TAG = 'Users';

/**
 * Users over src/users/user-administration.ts, the service the CLI and the console call: the
 * same checks, refusals and audit events (actor: the calling client). app.ts registers these
 * once the service exists, since it needs the session terminator and the password resets.
 */
export function registerUsersRoutes(api: AdminApi, users: UserAdministration): void {
  const origin = (request: AdminRequest<unknown, unknown, unknown>): AdministrativeOrigin => ({
    actor: request.actor,
    via: 'api',
    ...request.origin,
  });
  const byId = (params: { user_id: string }) => ({ id: params.user_id });

  api.route({
    method: 'get',
    path: '/users',
    operationId: 'listUsers',
    summary: 'Search users',
    description: 'By part of the email or name, in email order; `disabled` filters by state.',
    tag: TAG,
    scope: 'users:read',
    query: UserListQuery,
    responses: { 200: { description: 'A page of users.', schema: pageOf(UserSchema, 'UserPage') } },
    handler: async ({ query }) => {
      const page = await asProblem(() =>
        users.search({
          query: query.query,
          disabled: query.disabled === undefined ? undefined : query.disabled === 'true',
          limit: query.limit,
          cursor: query.cursor,
        }),
      );
      return {
        status: 200,
        body: { items: page.users.map(withDates), ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) },
      };
    },
  });

  api.route({
    method: 'post',
    path: '/users',
    operationId: 'createUser',
    summary: 'Create a user',
    description: 'The password, when given, meets the same policy as at sign-up.',
    tag: TAG,
    scope: 'users:write',
    body: UserCreateSchema,
    responses: {
      201: { description: 'Created.', schema: UserSchema },
      409: { description: 'A user with this email exists.' },
    },
    handler: async (request) => {
      const { body } = request;
      const user = await asProblem(() =>
        users.create(
          {
            email: body.email,
            password: body.password,
            name: body.name,
            phone: body.phone,
            emailVerified: body.email_verified,
          },
          origin(request),
        ),
      );
      return { status: 201, body: withDates(user), etag: etag(user), location: `/users/${user.id}` };
    },
  });

  api.route({
    method: 'get',
    path: '/users/{user_id}',
    operationId: 'getUser',
    summary: 'Read a user, with their factors, linked accounts, organizations and sessions',
    tag: TAG,
    scope: 'users:read',
    params: UserIdParams,
    etag: 'answers',
    responses: { 200: { description: 'The user.', schema: UserDetailsSchema } },
    handler: async ({ params }) => {
      const user = await asProblem(() => users.show(byId(params)));
      return { status: 200, body: withDates(user), etag: etag(user) };
    },
  });

  api.route({
    method: 'patch',
    path: '/users/{user_id}',
    operationId: 'updateUser',
    summary: "Change a user's name, email or phone",
    description: 'Fields given replace the stored ones; null clears name or phone. A new phone is unverified.',
    tag: TAG,
    scope: 'users:write',
    params: UserIdParams,
    body: UserUpdateSchema,
    etag: 'if-match',
    responses: { 200: { description: 'The user as changed.', schema: UserSchema } },
    handler: async (request) => {
      const { body } = request;
      const user = await asProblem(() =>
        users.update(
          byId(request.params),
          {
            name: body.name,
            email: body.email,
            emailVerified: body.email_verified,
            phone: body.phone,
            phoneVerified: body.phone_verified,
          },
          origin(request),
          versionIn(request.ifMatch),
        ),
      );
      return { status: 200, body: withDates(user), etag: etag(user) };
    },
  });

  api.route({
    method: 'delete',
    path: '/users/{user_id}',
    operationId: 'removeUser',
    summary: 'Delete a user with their sessions, tokens, factors, linked accounts and memberships',
    description: 'Refused (409) while they are the only admin of an active organization.',
    tag: TAG,
    scope: 'users:write',
    params: UserIdParams,
    responses: { 204: { description: 'Deleted; their portals were told of each session ended.' } },
    handler: async (request) => {
      await asProblem(() => users.remove(byId(request.params), origin(request)));
      return { status: 204 };
    },
  });

  for (const action of ['disable', 'enable'] as const) {
    api.route({
      method: 'post',
      path: `/users/{user_id}/${action}`,
      operationId: `${action}User`,
      summary: action === 'disable' ? 'Disable a user' : 'Enable a disabled user',
      description:
        action === 'disable'
          ? 'No sign-in by any method from now on; every session ends with back-channel logout to its portals, and every grant goes with its refresh and access tokens.'
          : 'They can sign in again; nothing ended while disabled comes back.',
      tag: TAG,
      scope: 'users:write',
      params: UserIdParams,
      responses: { 200: { description: 'The user now.', schema: UserStateSchema } },
      handler: async (request) => {
        const ref = byId(request.params);
        const result = await asProblem(async () =>
          action === 'disable'
            ? users.disable(ref, origin(request))
            : { ...(await users.enable(ref, origin(request))), sessionsEnded: 0 },
        );
        return {
          status: 200,
          body: { user: withDates(result.user), changed: result.changed, sessions_ended: result.sessionsEnded },
        };
      },
    });
  }

  api.route({
    method: 'post',
    path: '/users/{user_id}/factor-resets',
    operationId: 'resetUserFactors',
    summary: "Remove a user's second factors, recovery codes and remembered devices",
    description: 'For a lost phone: their next sign-in asks only the password (or enrollment). They are told by email.',
    tag: TAG,
    scope: 'users:write',
    params: UserIdParams,
    responses: { 200: { description: 'Reset.', schema: FactorResetSchema } },
    handler: async (request) => {
      const { factorsRemoved } = await asProblem(() => users.resetFactors(byId(request.params), origin(request)));
      return { status: 200, body: { factors_removed: factorsRemoved } };
    },
  });

  api.route({
    method: 'get',
    path: '/users/{user_id}/sessions',
    operationId: 'listUserSessions',
    summary: "A user's live browser sessions",
    tag: TAG,
    scope: 'users:read',
    params: UserIdParams,
    responses: { 200: { description: 'Most recently seen first.', schema: SessionListSchema } },
    handler: async ({ params }) => {
      const sessions = await asProblem(() => users.sessions(byId(params)));
      return { status: 200, body: { items: sessions.map(sessionJson) } };
    },
  });

  api.route({
    method: 'delete',
    path: '/users/{user_id}/sessions',
    operationId: 'endUserSessions',
    summary: "End all of a user's sessions",
    description: 'Their portals are told by back-channel logout; the tokens issued in them stop working.',
    tag: TAG,
    scope: 'users:write',
    params: UserIdParams,
    responses: { 200: { description: 'Ended.', schema: SessionsEndedSchema } },
    handler: async (request) => {
      const ended = await asProblem(() => users.endSessions(byId(request.params), origin(request)));
      return { status: 200, body: { sessions_ended: ended } };
    },
  });

  api.route({
    method: 'delete',
    path: '/users/{user_id}/sessions/{session_uid}',
    operationId: 'endUserSession',
    summary: 'End one session of a user',
    tag: TAG,
    scope: 'users:write',
    params: UserSessionParams,
    responses: { 204: { description: 'Ended; its portals were told.' } },
    handler: async (request) => {
      const { user_id, session_uid } = request.params;
      await asProblem(() => users.endSessions({ id: user_id }, origin(request), session_uid));
      return { status: 204 };
    },
  });

  api.route({
    method: 'post',
    path: '/users/{user_id}/password-resets',
    operationId: 'sendUserPasswordReset',
    summary: 'Email a user a password-reset link',
    description: 'Valid one hour; older links stop working. Refused (409) for a disabled user.',
    tag: TAG,
    scope: 'users:write',
    params: UserIdParams,
    responses: { 202: { description: 'The email is queued.' } },
    handler: async (request) => {
      await asProblem(() => users.sendPasswordReset(byId(request.params), origin(request)));
      return { status: 202 };
    },
  });

  api.route({
    method: 'get',
    path: '/users/{user_id}/sign-in-events',
    operationId: 'listUserSignInEvents',
    summary: "A user's sign-ins, successful and refused, from the audit log",
    tag: TAG,
    scope: 'users:read',
    params: UserIdParams,
    query: SignInEventQuery,
    responses: {
      200: { description: 'Newest first.', schema: pageOf(AuditEventSchema, 'SignInEventPage') },
    },
    handler: async ({ params, query }) => {
      const page = await asProblem(() =>
        users.signInEvents(byId(params), { limit: query.limit, cursor: query.cursor }),
      );
      return {
        status: 200,
        body: { items: page.events.map(eventJson), ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) },
      };
    },
  });
}

/** The service's refusals as problems; a field at fault is named where the request carried it. */
async function asProblem<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof UserAdministrationError)) throw error;
    if (error.problem === 'not_found') throw new Problem('not_found', error.message);
    if (error.problem === 'conflict') throw new Problem('conflict', error.message);
    if (error.problem === 'stale') throw new Problem('precondition_failed', error.message);
    if (!error.field) throw new Problem('validation', error.message);
    const field = error.field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const where = ['query', 'limit', 'cursor'].includes(field) ? 'query' : field === 'session' ? 'path' : 'body';
    throw Problem.field(where, `/${field}`, error.message);
  }
}

const etag = (user: Pick<AdminUser, 'updated_at'>) => `"${versionOf(user)}"`;

/** The version in an If-Match (`"v"`, `W/"v"`); `*` or none means any. */
function versionIn(ifMatch: string | undefined): string | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  return ifMatch
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

function sessionJson(session: ActiveSession) {
  return {
    uid: session.uid,
    browser: session.browser ?? null,
    os: session.os ?? null,
    ip: session.ip ?? null,
    signed_in_at: session.signedInAt?.toISOString() ?? null,
    last_seen_at: session.lastSeenAt?.toISOString() ?? null,
    portals: session.portals,
  };
}
