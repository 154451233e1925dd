import type Koa from 'koa';
import type { AdminCaller } from './admin-caller.ts';
import { type AdminScope, ORG_ADMIN_SCOPE } from './admin-scopes.ts';
import { Problem } from './problem.ts';
import { type AdminTokenVerifier, TokenRefused } from './token-verifier.ts';

/** The admin scopes a client holds now (its registration, through oidc-provider's cache), or undefined when it is gone. */
export type CurrentAdminScopes = (clientId: string) => Promise<AdminScope[] | undefined>;

/** Whether a person holds the admin role of an active organization now (src/organizations). */
export type OrganizationAdminCheck = (userId: string, organizationId: string) => Promise<boolean>;

const REALM = 'realm="umbral-admin"';

/**
 * The bearer token of a request (RFC 6750 §2.1, the Authorization header only: never a query
 * parameter, which ends up in logs). No token, or a bad, expired or wrong-audience one: 401 with
 * `WWW-Authenticate: Bearer` and RFC 6750's error attributes.
 */
export async function authenticate(
  ctx: Koa.Context,
  verifier: AdminTokenVerifier,
  currentScopes: CurrentAdminScopes,
): Promise<AdminCaller> {
  const header = ctx.get('authorization');
  if (!header) {
    throw new Problem('unauthorized', 'send an Admin API access token: Authorization: Bearer <token>', {
      headers: { 'WWW-Authenticate': `Bearer ${REALM}` },
    });
  }
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!match?.[1])
    throw unauthorized(new TokenRefused('invalid_request', 'the Authorization header is not Bearer <token>'));
  try {
    const { caller } = await verifier.verify(match[1]);
    if (caller.kind !== 'client') return caller;
    // A removed client, or one whose scopes were narrowed, is held to that at once, not at its token's expiry.
    const held = await currentScopes(caller.clientId);
    if (!held) throw new TokenRefused('invalid_token', 'the client of this token no longer exists');
    return { ...caller, scopes: new Set([...caller.scopes].filter((scope) => held.includes(scope))) };
  } catch (error) {
    if (error instanceof TokenRefused) throw unauthorized(error);
    throw error;
  }
}

/**
 * A client needs the route's scope. A company admin's token reaches only organization routes, for
 * the organization its token is for, while the person holds that organization's admin role.
 */
export async function authorize(
  caller: AdminCaller,
  route: { scope: AdminScope; organizationParam?: string | undefined },
  params: Record<string, string>,
  isOrganizationAdmin: OrganizationAdminCheck,
): Promise<void> {
  if (caller.kind === 'client') {
    if (!caller.scopes.has(route.scope)) throw insufficientScope(route.scope);
    return;
  }
  const organizationId = route.organizationParam ? params[route.organizationParam] : undefined;
  if (organizationId === undefined) throw insufficientScope(route.scope);
  if (organizationId !== caller.organizationId) {
    throw new Problem('forbidden', "a company admin's token manages its own organization only", {
      headers: { 'WWW-Authenticate': `Bearer ${REALM}, error="insufficient_scope"` },
    });
  }
  if (!(await isOrganizationAdmin(caller.userId, organizationId))) {
    throw new Problem('forbidden', 'you no longer hold the admin role of this organization, or it is not active', {
      headers: { 'WWW-Authenticate': `Bearer ${REALM}, error="insufficient_scope", scope="${ORG_ADMIN_SCOPE}"` },
    });
  }
}

function unauthorized(refusal: TokenRefused): Problem {
  const description = refusal.description.replaceAll('"', "'");
  return new Problem('unauthorized', refusal.description, {
    headers: { 'WWW-Authenticate': `Bearer ${REALM}, error="${refusal.error}", error_description="${description}"` },
  });
}

function insufficientScope(scope: AdminScope): Problem {
  return new Problem('forbidden', `this needs the scope ${scope}, which the token does not have`, {
    headers: { 'WWW-Authenticate': `Bearer ${REALM}, error="insufficient_scope", scope="${scope}"` },
  });
}
