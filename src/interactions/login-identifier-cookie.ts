import type { Context } from 'koa';

/**
 * Carries the email chosen at the identifier step to the password step. Signed, HttpOnly
 * and scoped to the one interaction's path, so it never outlives or leaves that sign-in.
 */
export class LoginIdentifierCookie {
  private readonly name: string;

  constructor(private readonly secure: boolean) {
    this.name = secure ? '__Secure-umbral.login' : 'umbral.login';
  }

  private options(uid: string) {
    return {
      signed: true,
      httpOnly: true,
      sameSite: 'lax' as const,
      secure: this.secure,
      path: `/interaction/${uid}`,
      overwrite: true,
    };
  }

  get(ctx: Context, _uid: string): string | undefined {
    return ctx.cookies.get(this.name, { signed: true }) || undefined;
  }

  set(ctx: Context, uid: string, email: string): void {
    ctx.cookies.set(this.name, email, { ...this.options(uid), maxAge: 60 * 60 * 1000 });
  }

  clear(ctx: Context, uid: string): void {
    ctx.cookies.set(this.name, '', { ...this.options(uid), maxAge: 0 });
  }
}
