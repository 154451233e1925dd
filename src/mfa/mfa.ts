import type { Kysely } from 'kysely';
import { type AuditTrail, NO_AUDIT } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import { SecretBox } from '../crypto/secret-box.ts';
import type { Logger } from '../logging/logger.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { Database } from '../storage/schema.ts';
import { AuthenticatorApp } from './authenticator-app.ts';
import { FactorRepository } from './factor-repository.ts';
import { MfaNotifications } from './mfa-notifications.ts';
import { Passkeys, relyingPartyOf } from './passkeys.ts';
import { RecoveryCodes } from './recovery-codes.ts';
import { RememberedDevices } from './remembered-devices.ts';
import { createSmsSender } from './sms/create-sms-sender.ts';
import { SmsCodes } from './sms/sms-codes.ts';
import type { SmsSender } from './sms/sms-sender.ts';
import { WebauthnChallenges } from './webauthn-challenges.ts';

export interface MfaDependencies {
  config: Config;
  db: Kysely<Database>;
  logger: Logger;
  mailer: Mailer;
  /** SECRET_ENCRYPTION_KEY, or the development key (src/crypto/secret-key.ts). */
  secretKey: Buffer;
  /** Replaces the configured SMS provider (tests). */
  smsSender?: SmsSender;
  /** Where factor changes and uses are recorded; none when absent. */
  audit?: AuditTrail;
}

/** Everything second factors need, built once and shared by the login's factor step and /account/security. */
export class Mfa {
  readonly factors: FactorRepository;
  readonly authenticatorApp: AuthenticatorApp;
  readonly recoveryCodes: RecoveryCodes;
  readonly smsCodes: SmsCodes;
  /** Undefined when SMS is off (SMS_PROVIDER=none): the SMS factor is then neither offered nor usable. */
  readonly sms: SmsSender | undefined;
  readonly passkeys: Passkeys;
  readonly webauthnChallenges: WebauthnChallenges;
  readonly rememberedDevices: RememberedDevices;
  readonly notifications: MfaNotifications;
  readonly secretBox: SecretBox;
  /** The audit log: factors added, removed and used (src/audit). */
  readonly audit: AuditTrail;

  constructor(readonly deps: MfaDependencies) {
    const { config, db, logger } = deps;
    this.secretBox = new SecretBox(deps.secretKey);
    this.factors = new FactorRepository(db);
    this.authenticatorApp = new AuthenticatorApp(this.factors, this.secretBox, config.productName);
    this.recoveryCodes = new RecoveryCodes(db, deps.secretKey);
    this.smsCodes = new SmsCodes(db);
    this.sms = deps.smsSender ?? createSmsSender(config.sms, db, logger);
    this.webauthnChallenges = new WebauthnChallenges(db);
    this.passkeys = new Passkeys(
      this.factors,
      this.webauthnChallenges,
      relyingPartyOf(config.issuer, config.productName),
      logger,
    );
    this.rememberedDevices = new RememberedDevices(db, config.secure);
    this.audit = deps.audit ?? NO_AUDIT;
    this.notifications = new MfaNotifications({
      mailer: deps.mailer,
      issuer: config.issuer,
      logger,
      audit: this.audit,
    });
  }

  /** After any change of factors: remembered devices stop skipping the second factor. */
  async factorsChanged(userId: string): Promise<void> {
    await this.rememberedDevices.forgetAll(userId);
  }

  /** Operator reset (`umbral users reset-mfa`): every factor, recovery code and remembered device goes. */
  async resetUser(userId: string): Promise<{ factors: number }> {
    const factors = await this.factors.removeAll(userId);
    await this.recoveryCodes.removeAll(userId);
    await this.rememberedDevices.forgetAll(userId);
    return { factors };
  }

  async purgeExpired(): Promise<number> {
    const [challenges, devices] = await Promise.all([
      this.webauthnChallenges.purgeExpired(),
      this.rememberedDevices.purgeExpired(),
    ]);
    const sms = await this.deps.db
      .deleteFrom('mfa_sms_challenges')
      .where('expires_at', '<', new Date())
      .executeTakeFirst();
    return challenges + devices + Number(sms.numDeletedRows);
  }
}
