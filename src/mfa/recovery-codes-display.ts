import type { Context } from 'koa';
import type { SecretBox } from '../crypto/secret-box.ts';

const TTL_MS = 10 * 60 * 1000;

/**
 * New recovery codes are shown once, on the page the form's 303 leads to: meanwhile they wait in
 * a cookie sealed with the secret key (so not even this browser's disk holds them in clear),
 * scoped to that page's path and read once.
 */
export class RecoveryCodesDisplay {
  private readonly name: string;

  constructor(
    private readonly box: SecretBox,
    private readonly secure: boolean,
  ) {
    this.name = secure ? '__Secure-umbral.recovery-codes' : 'umbral.recovery-codes';
  }

  private context(userId: string): string {
    return `recovery-codes-display:${userId}`;
  }

  hold(ctx: Context, path: string, userId: string, codes: string[]): void {
    const sealed = this.box.seal(JSON.stringify({ codes, until: Date.now() + TTL_MS }), this.context(userId));
    ctx.cookies.set(this.name, sealed, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      path,
      maxAge: TTL_MS,
      overwrite: true,
    });
  }

  /** The codes, if held for this user and not shown yet; reading clears them. */
  take(ctx: Context, path: string, userId: string): string[] | undefined {
    const sealed = ctx.cookies.get(this.name, { signed: true });
    if (!sealed) return undefined;
    ctx.cookies.set(this.name, '', {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      path,
      maxAge: 0,
      overwrite: true,
    });
    try {
      const value = JSON.parse(this.box.open(sealed, this.context(userId))) as { codes?: unknown; until?: unknown };
      if (typeof value.until !== 'number' || value.until < Date.now() || !Array.isArray(value.codes)) return undefined;
      return value.codes.filter((c): c is string => typeof c === 'string');
    } catch {
      return undefined;
    }
  }
}
