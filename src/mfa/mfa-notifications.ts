import { type AuditActor, type AuditOrigin, type AuditTrail, NO_AUDIT } from '../audit/audit-event.ts';
import { formatInstant, type Locale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import type { Mailer } from '../notify/mailer.ts';
import { personTimeZone } from '../users/time-zone.ts';

export type FactorChange = 'added' | 'removed' | 'recovery_codes' | 'reset';

/** The audit log's type of each change. */
const AUDIT_TYPES: Record<FactorChange, string> = {
  added: 'mfa.factor_added',
  removed: 'mfa.factor_removed',
  recovery_codes: 'mfa.recovery_codes_regenerated',
  reset: 'mfa.reset',
};

/** Who made a change, and from where: the person (default) or an operator (`umbral users reset-mfa`). */
export interface FactorChangeOrigin extends AuditOrigin {
  actor?: AuditActor;
}

const TEMPLATES: Record<FactorChange, string> = {
  added: 'mfa-factor-added',
  removed: 'mfa-factor-removed',
  recovery_codes: 'mfa-recovery-codes',
  reset: 'mfa-reset',
};

/**
 * Tells the person by email whenever their second factors change, so a change they did not make
 * (someone with their password and a session) does not go unnoticed; and records it in the audit log.
 */
export class MfaNotifications {
  constructor(private readonly deps: { mailer: Mailer; issuer: string; logger: Logger; audit?: AuditTrail }) {}

  async factorChanged(
    user: { id: string; email: string; name: string | null; locale: string | null; time_zone?: string | null },
    change: FactorChange,
    locale: Locale,
    factor?: { kind: string; label: string },
    origin: FactorChangeOrigin = {},
  ): Promise<void> {
    (this.deps.audit ?? NO_AUDIT).record({
      type: AUDIT_TYPES[change],
      actor: origin.actor ?? { kind: 'user', id: user.id },
      subjectUserId: user.id,
      ip: origin.ip,
      userAgent: origin.userAgent,
      data: factor ? { factor: factor.kind, label: factor.label } : {},
    });
    await this.deps.mailer.enqueue({
      to: user.email,
      template: TEMPLATES[change],
      locale,
      data: {
        name: user.name ?? user.email,
        email: user.email,
        factorKind: factor?.kind,
        factorLabel: factor?.label,
        // Also sent outside a request (an operator's reset): the person's stored zone, else the issuer's.
        date: formatInstant(new Date(), locale, personTimeZone(user.time_zone)),
        securityUrl: `${this.deps.issuer}/account/security`,
      },
    });
    this.deps.logger.info({ event: `mfa.notified_${change}` }, 'second-factor change notified');
  }
}
