import type { SecretBox } from '../crypto/secret-box.ts';
import type { FactorRepository } from './factor-repository.ts';

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30-second steps. */
const PERIOD_SECONDS = 30;
/** One step either side, for phones whose clock drifts a little. */
const TOLERANCE_SECONDS = 30;

export interface TotpSetup {
  factorId: string;
  /** Base32, as typed into an app by hand ("clave de configuración"). */
  secret: string;
  otpauthUri: string;
  /** The otpauth URI as an SVG QR code (inline in the page: no script, no extra request). */
  qrSvg: string;
}

export type TotpOutcome = 'accepted' | 'wrong' | 'replayed';

/** otplib and qrcode load on the first authenticator-app setup or code: RSS a token-only node never needs. */
let totpLibrary: Promise<typeof import('otplib')> | undefined;
const otplib = () => {
  totpLibrary ??= import('otplib');
  return totpLibrary;
};
let qrLibrary: Promise<typeof import('qrcode')> | undefined;
const qrcode = () => {
  qrLibrary ??= import('qrcode');
  return qrLibrary;
};

/** Codes are six digits; people paste them with spaces or dashes. */
export function normalizeCode(input: string): string {
  return input.replace(/[\s-]/g, '');
}

/**
 * Authenticator apps (TOTP, otplib): setup with QR code, setup key and otpauth:// link, enabled
 * only after a correct code. The secret is sealed at rest, bound to its factor row; each code is
 * accepted once (the accepted time step is recorded, and that step and earlier ones are refused).
 */
export class AuthenticatorApp {
  constructor(
    private readonly factors: FactorRepository,
    private readonly box: SecretBox,
    private readonly issuerName: string,
    private readonly now: () => number = Date.now,
  ) {}

  private context(userId: string, factorId: string): string {
    return `mfa_factors.totp_secret:${userId}:${factorId}`;
  }

  async start(userId: string, accountLabel: string): Promise<TotpSetup> {
    const { generateSecret } = await otplib();
    const secret = generateSecret({ length: 20 }); // 160 bits, RFC 4226's recommendation
    const factorId = await this.factors.startTotp(userId, (id) => this.box.seal(secret, this.context(userId, id)));
    return this.describe(factorId, secret, accountLabel);
  }

  /** The setup page again (a wrong code, a reload) for the setup under way. */
  async resume(userId: string, factorId: string, accountLabel: string): Promise<TotpSetup | undefined> {
    const stored = await this.factors.totpSecret(userId, factorId, 'pending');
    if (!stored) return undefined;
    return this.describe(factorId, this.box.open(stored.sealed, this.context(userId, factorId)), accountLabel);
  }

  /** Enables the app when `code` is right; the code is spent. */
  async confirm(userId: string, factorId: string, code: string, label: string): Promise<TotpOutcome> {
    const stored = await this.factors.totpSecret(userId, factorId, 'pending');
    if (!stored) return 'wrong';
    const outcome = await this.check(
      factorId,
      this.box.open(stored.sealed, this.context(userId, factorId)),
      code,
      stored.lastStep,
    );
    if (outcome !== 'accepted') return outcome;
    return (await this.factors.confirmTotp(userId, factorId, label)) ? 'accepted' : 'wrong';
  }

  /** A sign-in code for one of the user's confirmed apps. */
  async verify(userId: string, factorId: string, code: string): Promise<TotpOutcome> {
    const stored = await this.factors.totpSecret(userId, factorId, 'confirmed');
    if (!stored) return 'wrong';
    return this.check(factorId, this.box.open(stored.sealed, this.context(userId, factorId)), code, stored.lastStep);
  }

  private async check(factorId: string, secret: string, input: string, lastStep: number | null): Promise<TotpOutcome> {
    const token = normalizeCode(input);
    if (!/^\d{6}$/.test(token)) return 'wrong';
    const epoch = Math.floor(this.now() / 1000);
    const options = { secret, token, epoch, period: PERIOD_SECONDS, epochTolerance: TOLERANCE_SECONDS };
    const { verify } = await otplib();
    const result = await verify(lastStep === null ? options : { ...options, afterTimeStep: lastStep });
    if (!result.valid) {
      // Say "already used" rather than "wrong" when it is the code just accepted.
      if (lastStep !== null && (await verify(options)).valid) return 'replayed';
      return 'wrong';
    }
    const step = (result as { timeStep: number }).timeStep;
    return (await this.factors.claimTotpStep(factorId, step)) ? 'accepted' : 'replayed';
  }

  private async describe(factorId: string, secret: string, accountLabel: string): Promise<TotpSetup> {
    const [{ generateURI }, QRCode] = await Promise.all([otplib(), qrcode()]);
    const otpauthUri = generateURI({ issuer: this.issuerName, label: accountLabel, secret, period: PERIOD_SECONDS });
    const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { factorId, secret, otpauthUri, qrSvg };
  }
}
