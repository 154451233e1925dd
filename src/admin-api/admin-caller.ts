import type { AuditActor } from '../audit/audit-event.ts';
import { type AdminScope, isAdminScope } from './admin-scopes.ts';

/**
 * Who is calling, from a verified token:
 * - a client (client_credentials), with the admin scopes its token was granted;
 * - a company admin (a person's token with `org:admin`), for the one organization of their token.
 */
export type AdminCaller =
  | { kind: 'client'; clientId: string; scopes: ReadonlySet<AdminScope> }
  | { kind: 'company_admin'; userId: string; clientId: string; organizationId: string };

/** The actor of the audit events this caller causes. */
export function actorOf(caller: AdminCaller): AuditActor {
  return caller.kind === 'client' ? { kind: 'client', id: caller.clientId } : { kind: 'user', id: caller.userId };
}

/** Idempotency keys are kept per caller: one client's key never answers another's request. */
export function callerKey(caller: AdminCaller): string {
  return caller.kind === 'client' ? `client:${caller.clientId}` : `user:${caller.userId}`;
}

export function adminScopesIn(scope: unknown): Set<AdminScope> {
  return new Set(typeof scope === 'string' ? scope.split(' ').filter(isAdminScope) : []);
}
