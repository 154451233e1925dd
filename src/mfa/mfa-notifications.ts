import type { Locale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import type { Mailer } from '../notify/mailer.ts';

export type FactorChange = 'added' | 'removed' | 'recovery_codes' | 'reset';

const TEMPLATES: Record<FactorChange, string> = {
  added: 'mfa-factor-added',
  removed: 'mfa-factor-removed',
  recovery_codes: 'mfa-recovery-codes',
  reset: 'mfa-reset',
};

/**
 * Tells the person by email whenever their second factors change, so a change they did not make
 * (someone with their password and a session) does not go unnoticed.
 */
export class MfaNotifications {
  constructor(private readonly deps: { mailer: Mailer; issuer: string; logger: Logger }) {}

  async factorChanged(
    user: { email: string; name: string | null; locale: string | null },
    change: FactorChange,
    locale: Locale,
    factor?: { kind: string; label: string },
  ): Promise<void> {
    await this.deps.mailer.enqueue({
      to: user.email,
      template: TEMPLATES[change],
      locale,
      data: {
        name: user.name ?? user.email,
        email: user.email,
        factorKind: factor?.kind,
        factorLabel: factor?.label,
        date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        securityUrl: `${this.deps.issuer}/account/security`,
      },
    });
    this.deps.logger.info({ event: `mfa.notified_${change}` }, 'second-factor change notified');
  }
}
