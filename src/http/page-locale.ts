import type { Context, Middleware } from 'koa';
import { LOCALES, type Locale, negotiateLocale, supportedLocale } from '../i18n/i18n.ts';
import { seeOther } from './form.ts';

/** Each language as its speakers name it, for the footer's switcher. */
export const LANGUAGE_NAMES: Record<Locale, string> = { es: 'Español', 'pt-BR': 'Português (Brasil)', en: 'English' };

/** The query parameter the footer's switcher adds to the page's own URL. */
export const LANGUAGE_PARAM = 'lang';

const YEAR_MS = 365 * 24 * 3600 * 1000;
/** A logout request's `ui_locales`, kept for the logged-out page it ends on (oidc-provider drops it). */
const LOGOUT_LOCALE_MS = 10 * 60 * 1000;
const LOGOUT_PATH = '/session/end';

function queryString(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  return typeof value === 'string' ? value : undefined;
}

/** Path and query of `url`, never a protocol-relative "//host" (a path like /a/..//evil.com). */
function ownPath(url: URL): string {
  return `${url.pathname.replace(/^\/+/, '/')}${url.search}`;
}

function isLocale(value: string | undefined): value is Locale {
  return (LOCALES as readonly string[]).includes(value ?? '');
}

export interface PageLocaleOptions {
  secure: boolean;
  /** The switch was used: a signed-in browser's account keeps the choice (its emails follow it). */
  onChoice?: (ctx: Context, locale: Locale) => Promise<void>;
}

export function languageCookieName(secure: boolean): string {
  return secure ? '__Host-umbral.lang' : 'umbral.lang';
}

/**
 * The language a page speaks, Keycloak's order: the person's own choice in this browser (the
 * footer's switcher, kept in a cookie), then the portal's `ui_locales` (the interaction's, or this
 * request's on any page: logout, errors), then Accept-Language, then Spanish.
 */
export function pageLocale(ctx: Context, uiLocales?: string): Locale {
  const chosen = ctx.state['chosenLocale'] as Locale | undefined;
  if (chosen) return chosen;
  const fromQuery = queryString(ctx, 'ui_locales');
  const carried = ctx.state['logoutLocale'] as string | undefined;
  return negotiateLocale([uiLocales, fromQuery, carried].filter(Boolean).join(' '), ctx.get('accept-language'));
}

/** The page's own URL (for a form's answer, the page the form was on) with `lang` set. */
export function languageHref(ctx: Context, locale: Locale): string {
  const url = new URL(ctx.originalUrl, 'http://page.invalid');
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    // A POST's own URL may not answer GET: the page the form was posted from does.
    const referer = URL.parse(ctx.get('referer'));
    // (Koa 3's ctx.origin is the Origin header, not this server's.)
    if (referer && referer.origin === `${ctx.protocol}://${ctx.host}`) {
      url.pathname = referer.pathname;
      url.search = referer.search;
    } else url.search = '';
  }
  url.searchParams.set(LANGUAGE_PARAM, locale);
  return ownPath(url);
}

/**
 * Sets ctx.state.locale for every request. `?lang=xx` (the footer's links) stores the choice in a
 * cookie for a year and answers 303 to the same URL without it, so no route ever sees it.
 */
export function pageLocaleMiddleware(options: PageLocaleOptions): Middleware {
  const cookie = languageCookieName(options.secure);
  const logoutCookie = options.secure ? '__Secure-umbral.logout_lang' : 'umbral.logout_lang';
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure: options.secure, overwrite: true };
  return async (ctx, next) => {
    const asked = ctx.query[LANGUAGE_PARAM];
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && asked !== undefined) {
      // Language links are plain GETs: a choice costs nothing and reveals nothing, so no CSRF check.
      const url = new URL(ctx.originalUrl, 'http://page.invalid');
      url.searchParams.delete(LANGUAGE_PARAM);
      if (typeof asked === 'string' && isLocale(asked)) {
        ctx.cookies.set(cookie, asked, { ...cookieOptions, path: '/', maxAge: YEAR_MS });
        // Stored for the account only when the link was clicked on our own pages, not sent from elsewhere.
        const site = ctx.get('sec-fetch-site');
        if (!site || site === 'same-origin') await options.onChoice?.(ctx, asked);
      }
      seeOther(ctx, ownPath(url));
      return;
    }
    const stored = ctx.cookies.get(cookie);
    if (isLocale(stored)) ctx.state['chosenLocale'] = stored;
    const askedByLogout = ctx.path === LOGOUT_PATH ? supportedLocale(queryString(ctx, 'ui_locales')) : undefined;
    if (ctx.method === 'GET' && askedByLogout) {
      ctx.cookies.set(logoutCookie, askedByLogout, { ...cookieOptions, path: LOGOUT_PATH, maxAge: LOGOUT_LOCALE_MS });
    } else if (ctx.path.startsWith(`${LOGOUT_PATH}/`)) {
      ctx.state['logoutLocale'] = ctx.cookies.get(logoutCookie);
    }
    ctx.state['locale'] = pageLocale(ctx);
    await next();
  };
}
