import type { Context } from 'koa';
import type { SecretBox } from '../crypto/secret-box.ts';

const TTL_MS = 10 * 60 * 1000;

/**
 * A new secret (a portal's, a webhook endpoint's) is shown once, on the page the form's 303 leads
 * to. Meanwhile it waits in a cookie sealed with the secret key for this operator and that page's
 * path only, and reading it clears it: a reload shows it no more.
 */
export class ShownOnce {
  private readonly name: string;

  constructor(
    private readonly box: SecretBox,
    private readonly secure: boolean,
  ) {
    this.name = secure ? '__Secure-umbral.admin-secret' : 'umbral.admin-secret';
  }

  private context(operatorId: string, path: string): string {
    return `admin-console-secret:${operatorId}:${path}`;
  }

  hold(ctx: Context, path: string, operatorId: string, secret: string): void {
    const sealed = this.box.seal(
      JSON.stringify({ secret, until: Date.now() + TTL_MS }),
      this.context(operatorId, path),
    );
    ctx.cookies.set(this.name, sealed, this.options(path, TTL_MS));
  }

  /** The secret held for this operator and page, if not shown yet; reading clears it. */
  take(ctx: Context, path: string, operatorId: string): string | undefined {
    const sealed = ctx.cookies.get(this.name, { signed: true });
    if (!sealed) return undefined;
    ctx.cookies.set(this.name, '', this.options(path, 0));
    try {
      const value = JSON.parse(this.box.open(sealed, this.context(operatorId, path))) as {
        secret?: unknown;
        until?: unknown;
      };
      if (typeof value.until !== 'number' || value.until < Date.now() || typeof value.secret !== 'string') {
        return undefined;
      }
      return value.secret;
    } catch {
      return undefined;
    }
  }

  private options(path: string, maxAge: number) {
    return {
      signed: true,
      httpOnly: true,
      sameSite: 'strict' as const,
      secure: this.secure,
      path,
      maxAge,
      overwrite: true,
    };
  }
}
