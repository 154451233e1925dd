import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Logger } from '../logging/logger.ts';
import type { SecondFactorMethod } from './authentication-level.ts';
import type { Factor, FactorRepository, PasskeyRecord } from './factor-repository.ts';
import type { ChallengePurpose, WebauthnChallenges } from './webauthn-challenges.ts';

/**
 * @simplewebauthn/server (and its ASN.1 and X.509 stack) loads on the first passkey ceremony:
 * loading it costs about 0.2 s of CPU, which a process that never sees a passkey (a CLI command,
 * a token-only node, each test file) need not pay.
 */
let webauthnLibrary: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webauthn = () => {
  webauthnLibrary ??= import('@simplewebauthn/server');
  return webauthnLibrary;
};

export interface RelyingPartyIdentity {
  /** ISSUER's host name. */
  rpId: string;
  /** ISSUER's origin: the only origin a ceremony is accepted from. */
  origin: string;
  name: string;
}

export function relyingPartyOf(issuer: string, productName: string): RelyingPartyIdentity {
  const url = new URL(issuer);
  return { rpId: url.hostname, origin: url.origin, name: productName };
}

/** RFC 8176: a synced (multi-device) passkey is a software-secured key, a device-bound one hardware. */
export function passkeyMethod(passkey: Pick<PasskeyRecord, 'deviceType'>): SecondFactorMethod {
  return passkey.deviceType === 'singleDevice' ? 'hwk' : 'swk';
}

export type PasskeyAssertion =
  | { ok: true; passkey: PasskeyRecord; userVerified: boolean }
  | { ok: false; reason: 'challenge' | 'unknown' | 'invalid' };

/** Parses the JSON the page posts; anything else is no credential at all. */
export function parseCredentialJson<T>(raw: string): T | undefined {
  if (!raw || raw.length > 32_000) return undefined;
  try {
    const value = JSON.parse(raw) as unknown;
    return value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string'
      ? (value as T)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Passkeys (WebAuthn, @simplewebauthn/server): registration, several per user and named, and
 * assertions as a passwordless first factor (discoverable, user verification required) or as a
 * second factor after the password (any of the user's passkeys).
 */
export class Passkeys {
  constructor(
    private readonly factors: FactorRepository,
    private readonly challenges: WebauthnChallenges,
    private readonly rp: RelyingPartyIdentity,
    private readonly logger: Logger,
  ) {}

  async registrationOptions(user: {
    id: string;
    email: string;
    name: string | null;
  }): Promise<{ challengeId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
    const existing = await this.factors.passkeys(user.id);
    // simplewebauthn makes a random 32-byte challenge; the server keeps it, single use.
    const options = await (await webauthn()).generateRegistrationOptions({
      rpName: this.rp.name,
      rpID: this.rp.rpId,
      userName: user.email,
      userDisplayName: user.name ?? user.email,
      // The WebAuthn user handle: the account id, never the email (it may change).
      userID: new TextEncoder().encode(user.id),
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    return { challengeId: await this.challenges.create('register', user.id, options.challenge), options };
  }

  /** Verifies and stores a new passkey of `userId`; undefined when the response does not hold. */
  async register(
    userId: string,
    challengeId: string,
    response: RegistrationResponseJSON,
    label: string,
  ): Promise<Factor | undefined> {
    const expected = await this.challenges.take(challengeId, 'register');
    if (!expected || expected.userId !== userId) return undefined;
    try {
      const result = await (await webauthn()).verifyRegistrationResponse({
        response,
        expectedChallenge: expected.challenge,
        expectedOrigin: this.rp.origin,
        expectedRPID: this.rp.rpId,
        requireUserVerification: true,
      });
      if (!result.verified) return undefined;
      const info = result.registrationInfo;
      if (await this.factors.passkeyByCredentialId(info.credential.id)) return undefined;
      return await this.factors.addPasskey(userId, {
        label,
        credentialId: info.credential.id,
        publicKey: info.credential.publicKey,
        signCount: info.credential.counter,
        transports: info.credential.transports ?? response.response.transports ?? [],
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
      });
    } catch (error) {
      this.logger.info(
        { event: 'passkey.registration_refused', reason: (error as Error).message },
        'passkey registration refused',
      );
      return undefined;
    }
  }

  /**
   * Options for an assertion. Passwordless login names no credentials (the browser offers the
   * discoverable ones, also in autofill); a second factor lists the user's own.
   */
  async authenticationOptions(
    purpose: Extract<ChallengePurpose, 'login' | 'second_factor'>,
    userId?: string,
  ): Promise<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
    const allow = userId
      ? (await this.factors.passkeys(userId)).map((p) => ({ id: p.credentialId, transports: p.transports }))
      : undefined;
    const options = await (await webauthn()).generateAuthenticationOptions({
      rpID: this.rp.rpId,
      userVerification: purpose === 'login' ? 'required' : 'preferred',
      ...(allow ? { allowCredentials: allow } : {}),
    });
    return { challengeId: await this.challenges.create(purpose, userId, options.challenge), options };
  }

  /**
   * Checks an assertion against its (single-use) challenge. For a second factor the passkey must
   * be one of `userId`'s; a passwordless login must have verified the user (PIN, biometric).
   */
  async verifyAssertion(
    purpose: Extract<ChallengePurpose, 'login' | 'second_factor'>,
    challengeId: string,
    response: AuthenticationResponseJSON,
    userId?: string,
  ): Promise<PasskeyAssertion> {
    const expected = await this.challenges.take(challengeId, purpose);
    if (!expected || (userId !== undefined && expected.userId !== userId)) return { ok: false, reason: 'challenge' };
    const passkey = await this.factors.passkeyByCredentialId(response.id);
    if (!passkey || (userId !== undefined && passkey.userId !== userId)) return { ok: false, reason: 'unknown' };
    // A discoverable credential names its user: it must be the passkey's owner.
    const handle = response.response.userHandle;
    if (handle && Buffer.from(handle, 'base64url').toString('utf8') !== passkey.userId)
      return { ok: false, reason: 'unknown' };
    try {
      const result = await (await webauthn()).verifyAuthenticationResponse({
        response,
        expectedChallenge: expected.challenge,
        expectedOrigin: this.rp.origin,
        expectedRPID: this.rp.rpId,
        credential: {
          id: passkey.credentialId,
          publicKey: passkey.publicKey as Uint8Array<ArrayBuffer>,
          counter: passkey.signCount,
          transports: passkey.transports as never,
        },
        requireUserVerification: purpose === 'login',
      });
      if (!result.verified) return { ok: false, reason: 'invalid' };
      const info = result.authenticationInfo;
      if (
        !(await this.factors.recordPasskeyUse(passkey.id, passkey.signCount, info.newCounter, info.credentialBackedUp))
      ) {
        return { ok: false, reason: 'invalid' };
      }
      return { ok: true, passkey, userVerified: info.userVerified };
    } catch (error) {
      // simplewebauthn throws on a counter that went backwards (a cloned authenticator) and on any mismatch.
      this.logger.info(
        { event: 'passkey.assertion_refused', reason: (error as Error).message },
        'passkey assertion refused',
      );
      return { ok: false, reason: 'invalid' };
    }
  }
}
