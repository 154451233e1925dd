import type { Context, Middleware } from 'koa';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { cookieHash, type EndReason } from './session-terminator.ts';

const REASONS: readonly EndReason[] = [
  'signed_in_elsewhere',
  'signed_out_remotely',
  'password_changed',
  'ended_by_administrator',
];

/**
 * Tells a browser why it was signed out ("Se cerró tu sesión porque iniciaste sesión en otro
 * dispositivo"). oidc-provider silently replaces an unknown session cookie on the authorization
 * request, so the ended session is recognised just before that (on /auth and /account) and the
 * reason moves to a short-lived cookie the next page shows once.
 */
export class EndedSessionNotice {
  private readonly noticeCookie: string;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sessionCookie: string,
    private readonly secure: boolean,
  ) {
    this.noticeCookie = secure ? '__Host-umbral.notice' : 'umbral.notice';
  }

  /** Watches the authorization endpoint and the account pages for a browser whose session was ended. */
  middleware(paths: string[]): Middleware {
    return async (ctx, next) => {
      if (ctx.method === 'GET' && paths.some((p) => ctx.path === p || ctx.path.startsWith(`${p}/`))) {
        await this.recognise(ctx);
      }
      await next();
    };
  }

  /** The reason this browser was signed out, once: reading it clears it. */
  take(ctx: Context): EndReason | undefined {
    const value = ctx.cookies.get(this.noticeCookie, { signed: true });
    if (!value) return undefined;
    ctx.cookies.set(this.noticeCookie, '', { ...this.options(), maxAge: 0 });
    return (REASONS as readonly string[]).includes(value) ? (value as EndReason) : undefined;
  }

  private async recognise(ctx: Context): Promise<void> {
    const sessionId = ctx.cookies.get(this.sessionCookie, { signed: true });
    if (!sessionId) return;
    const ended = await this.db
      .deleteFrom('ended_sessions')
      .where('cookie_hash', '=', cookieHash(sessionId))
      .where('expires_at', '>', new Date())
      .returning('reason')
      .executeTakeFirst();
    if (ended) ctx.cookies.set(this.noticeCookie, ended.reason, { ...this.options(), maxAge: 10 * 60 * 1000 });
  }

  private options() {
    return { signed: true, httpOnly: true, sameSite: 'lax' as const, secure: this.secure, path: '/', overwrite: true };
  }
}
