import type { ActiveSession } from '../sessions/session-directory.ts';
import type { UserAdministration } from '../users/user-administration.ts';
import type { AdminApi } from './admin-router.ts';
import { AuditEventSchema, eventJson } from './audit-routes.ts';
import { pageOf } from './pagination.ts';
import { asProblem, adminOrigin as origin } from './users-problems.ts';
import {
  FactorResetSchema,
  SessionListSchema,
  SessionsEndedSchema,
  SignInEventQuery,
  UserIdParams,
  UserSessionParams,
} from './users-schemas.ts';

const TAG = 'Users';

/** What is done to one user's account besides its fields: factors, sessions, password reset, sign-in history. */
export function registerUserAccountRoutes(api: AdminApi, users: UserAdministration): void {
  const byId = (params: { user_id: string }) => ({ id: params.user_id });

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
