import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

/**
 * A random value in a signed, HttpOnly cookie that ties an upstream sign-in to the browser that
 * started it: a callback URL (with its state) opened in another browser finds no sign-in. One
 * value per browser, so sign-ins in two tabs both work. SameSite=Lax: the provider's redirect
 * back is a top-level GET, which carries it.
 */
export class BrowserBinding {
  private readonly name: string;

  constructor(private readonly secure: boolean) {
    this.name = secure ? '__Host-umbral.federation' : 'umbral.federation';
  }

  get(ctx: Context): string | undefined {
    return ctx.cookies.get(this.name, { signed: true }) || undefined;
  }

  ensure(ctx: Context): string {
    const existing = this.get(ctx);
    const value = existing ?? randomBytes(32).toString('base64url');
    ctx.cookies.set(this.name, value, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      path: '/',
      maxAge: 60 * 60 * 1000,
      overwrite: true,
    });
    return value;
  }
}
