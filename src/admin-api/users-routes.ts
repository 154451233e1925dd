import type { UserAdministration } from '../users/user-administration.ts';
import type { AdminApi } from './admin-router.ts';
import { versionInIfMatch } from './etag.ts';
import { pageOf } from './pagination.ts';
import { registerUserAccountRoutes } from './user-account-routes.ts';
import { asProblem, etag, adminOrigin as origin } from './users-problems.ts';
import {
  UserCreateSchema,
  UserDetailsSchema,
  UserIdParams,
  UserListQuery,
  UserSchema,
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
          versionInIfMatch(request.ifMatch),
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

  registerUserAccountRoutes(api, users);
}
