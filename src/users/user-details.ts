import { type Kysely, sql } from 'kysely';
import { AuditCursorError, type AuditLog, type AuditPage } from '../audit/audit-log.ts';
import { FederatedIdentities, providerOf } from '../federation/federated-identities.ts';
import { FactorRepository } from '../mfa/factor-repository.ts';
import { RecoveryCodes } from '../mfa/recovery-codes.ts';
import { MembershipRepository } from '../organizations/memberships.ts';
import type { Database, UserRow } from '../storage/schema.ts';
import { type AdminUserDetails, adminUserOf, UserAdministrationError } from './admin-user.ts';

/** A user as `users show` and the Admin API show one: factors, links, companies, sessions; nothing secret. */
export async function userDetails(db: Kysely<Database>, user: UserRow): Promise<AdminUserDetails> {
  const [factors, codesLeft, identities, memberships, sessions] = await Promise.all([
    new FactorRepository(db).list(user.id),
    new RecoveryCodes(db).remaining(user.id),
    new FederatedIdentities(db).listForUser(user.id),
    new MembershipRepository(db).ofUser(user.id),
    liveSessionCount(db, user.id),
  ]);
  return {
    ...adminUserOf(user),
    factors: factors.map((f) => ({
      id: f.id,
      kind: f.kind,
      label: f.label,
      created_at: f.createdAt,
      last_used_at: f.lastUsedAt,
    })),
    recovery_codes_left: codesLeft,
    identities: identities.map((i) => ({
      provider: providerOf(i),
      email: i.email,
      linked_at: i.created_at,
      last_login_at: i.last_login_at,
    })),
    organizations: memberships.map((m) => ({ id: m.organization.id, name: m.organization.name, roles: m.roles })),
    sessions,
  };
}

/** Browser sessions of the user not yet expired (what /account/sessions lists), counted without oidc-provider. */
export async function liveSessionCount(db: Kysely<Database>, userId: string): Promise<number> {
  const { n } = await db
    .selectFrom('oidc_models')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('model', '=', 'Session')
    .where('account_id', '=', userId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** The audit log's sign-in events: what `signInEventsOf` lists. */
export const SIGN_IN_EVENT_TYPES = ['sign_in.succeeded', 'sign_in.failed'];

/** A user's sign-ins, newest first, a page of `limit` (1 to 200, default 50) from `cursor`. */
export async function signInEventsOf(
  auditLog: Pick<AuditLog, 'query' | 'flush'>,
  userId: string,
  page: { limit?: number | undefined; cursor?: string | undefined },
): Promise<AuditPage> {
  const limit = page.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
    throw new UserAdministrationError('invalid', 'limit must be a whole number from 1 to 200', 'limit');
  }
  // This process's sign-ins still buffered are written first.
  await auditLog.flush();
  try {
    return await auditLog.query({ userId, types: SIGN_IN_EVENT_TYPES, limit, cursor: page.cursor });
  } catch (error) {
    if (error instanceof AuditCursorError) {
      throw new UserAdministrationError('invalid', 'cursor is not one this list returned', 'cursor');
    }
    throw error;
  }
}
