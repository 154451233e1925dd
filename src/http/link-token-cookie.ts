import type { Context } from 'koa';
import { seeOther } from './form.ts';

/** The longest a link's token waits in its cookie, however long the link itself lives. */
export const LINK_TOKEN_COOKIE_SECONDS = 15 * 60;

/**
 * The secret token of an emailed link (`/password/reset?token=…`), moved out of the URL at
 * the first request: into a signed, HttpOnly cookie scoped to the link's page, and a 303 to
 * that page without the token. Kept in a URL, the token would reach the Referer of the page's
 * own requests, the browser history and every proxy log on the way.
 *
 * The page reads the token back from the cookie and shows what the link is for; its form posts
 * without the token and the POST reads the cookie again (only the POST uses the link up: mail
 * scanners open links). Every response that takes or reads a token is sent with
 * `Referrer-Policy: no-referrer` (the page renderer mirrors it in the `<meta name="referrer">`).
 */
export class LinkTokenCookie {
  readonly name: string;
  private readonly path: string;
  private readonly secure: boolean;
  private readonly maxAgeSeconds: number;

  /**
   * `path` is the link's page (e.g. /password/reset); the cookie is sent there only.
   * `linkTtlSeconds` is how long the link lives: the cookie never outlives it.
   */
  constructor(options: { name: string; path: string; secure: boolean; linkTtlSeconds: number }) {
    // __Host- would need Path=/: __Secure- still refuses a cookie set over plain http.
    this.name = options.secure ? `__Secure-${options.name}` : options.name;
    this.path = options.path;
    this.secure = options.secure;
    this.maxAgeSeconds = Math.min(LINK_TOKEN_COOKIE_SECONDS, options.linkTtlSeconds);
  }

  /**
   * When the URL carries `?<param>=…`: keeps it in the cookie and answers 303 to the page
   * without it (other query parameters dropped too: the link carries nothing else). Returns
   * whether it did, so the handler stops there. Nothing is checked yet: the tokenless page
   * checks, so that even a bad link ends on a URL without its token.
   */
  takeFromUrl(ctx: Context, param = 'token'): boolean {
    if (!Object.hasOwn(ctx.query, param)) {
      noReferrer(ctx);
      return false;
    }
    const token = ctx.query[param];
    // An empty or repeated parameter: no token, so the page shows the link as invalid.
    this.takeFromPath(ctx, typeof token === 'string' ? token : '');
    return true;
  }

  /**
   * The same for a link whose token is a segment of its path (`/invitations/<token>`): keeps the
   * token in the cookie and answers 303 to the page, whose URL has none.
   */
  takeFromPath(ctx: Context, token: string): void {
    noReferrer(ctx);
    if (token) this.set(ctx, token, this.maxAgeSeconds * 1000);
    else this.clear(ctx);
    seeOther(ctx, this.path);
  }

  /** The token this browser brought from the link, or '' when none (never opened, expired or cleared). */
  read(ctx: Context): string {
    noReferrer(ctx);
    return ctx.cookies.get(this.name, { signed: true }) ?? '';
  }

  /** Forgets the token: once the link is used up, or found invalid. */
  clear(ctx: Context): void {
    this.set(ctx, '', 0);
  }

  private set(ctx: Context, value: string, maxAge: number): void {
    ctx.cookies.set(this.name, value || null, {
      signed: true,
      httpOnly: true,
      secure: this.secure,
      sameSite: 'lax',
      path: this.path,
      maxAge,
      overwrite: true,
    });
  }
}

/** Pages holding a link's token send no Referer at all, not even to Umbral itself. */
function noReferrer(ctx: Context): void {
  ctx.set('Referrer-Policy', 'no-referrer');
}
