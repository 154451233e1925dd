/**
 * The audit log's vocabulary: what a capability hands over when something security-relevant
 * happens. Capabilities depend on this leaf module only (as on src/interactions/interaction.ts),
 * never on the writer; src/app.ts passes the writer in as an `AuditTrail`.
 */

/** Who did it: the person themselves, an operator (the CLI), a client (an API token), or Umbral. */
export type AuditActor =
  | { kind: 'user'; id: string }
  | { kind: 'operator'; id: string }
  | { kind: 'client'; id: string }
  | { kind: 'system'; id?: string };

/** The request it came from, when there was one. */
export interface AuditOrigin {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export interface AuditEventInput extends AuditOrigin {
  /** Dotted, stable: `sign_in.succeeded`, `mfa.factor_added`, `operator.org_added`… */
  type: string;
  actor: AuditActor;
  /** The user it concerns, if any (a failed sign-in for an unknown email concerns none). */
  subjectUserId?: string | undefined;
  organizationId?: string | undefined;
  /** A before/after summary: names, counts, reasons. Never a password, secret, token or code. */
  data?: Record<string, unknown>;
  /** Defaults to now. */
  at?: Date;
}

/** Where events go. `record` never waits on the database and never throws. */
export interface AuditTrail {
  record(event: AuditEventInput): void;
}

/** A trail that keeps nothing: for code run without one (tests of a single capability). */
export const NO_AUDIT: AuditTrail = { record: () => {} };

/** The IP and user agent of a Koa request (ctx.ip is already resolved behind trusted proxies). */
export function originOf(ctx: { ip: string; get(field: string): string }): AuditOrigin {
  const userAgent = ctx.get('user-agent');
  return { ip: ctx.ip || undefined, userAgent: userAgent ? userAgent.slice(0, 512) : undefined };
}

/** Keys whose values are never kept, whatever a caller passes: a last guard, not the first. */
const SECRET_KEY = /pass(word|wd|phrase)?|secret|token|otp|hash|cookie|credential|private|^codes?$|_code$|Code$/i;

/** `data` without anything that looks like a secret, to a bounded depth; strings are cut at 256 characters. */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.slice(0, 256);
  if (value instanceof Date) return value.toISOString();
  if (depth >= 4) return undefined;
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => withoutSecrets(item, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (SECRET_KEY.test(key)) continue;
      const kept = withoutSecrets(item, depth + 1);
      if (kept !== undefined) out[key] = kept;
    }
    return out;
  }
  return undefined;
}
