import type { Context } from 'koa';

/** Factor checks share the password throttle's counters and delays, under an identifier of their own. */
export function throttleIdentifier(accountId: string): string {
  return `mfa:${accountId}`;
}

/** The signed cookie holding the id of this interaction's WebAuthn challenge. */
export class WebauthnChallengeCookie {
  private readonly name: string;

  constructor(private readonly secure: boolean) {
    this.name = secure ? '__Secure-umbral.webauthn' : 'umbral.webauthn';
  }

  set(ctx: Context, path: string, challengeId: string): void {
    ctx.cookies.set(this.name, challengeId, {
      signed: true,
      httpOnly: true,
      sameSite: 'strict',
      secure: this.secure,
      path,
      maxAge: 5 * 60 * 1000,
      overwrite: true,
    });
  }

  take(ctx: Context, path: string): string {
    const id = ctx.cookies.get(this.name, { signed: true }) ?? '';
    ctx.cookies.set(this.name, '', {
      signed: true,
      httpOnly: true,
      sameSite: 'strict',
      secure: this.secure,
      path,
      maxAge: 0,
      overwrite: true,
    });
    return id;
  }
}
