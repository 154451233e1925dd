import ejs from 'ejs';
import type { Context } from 'koa';
import { viewsPath } from '../config/project-root.ts';
import { LOCALES, type Locale, negotiateLocale, translator } from '../i18n/i18n.ts';
import { type OperatorBranding, PageBrandingResolver, styleAttributeSource } from './page-branding.ts';
import { LANGUAGE_NAMES, languageHref } from './page-locale.ts';

/**
 * Our own pages load nothing but our stylesheet, images and our one script (passkeys,
 * /assets/webauthn.js, which fetches WebAuthn options from us); no inline script, ever.
 */
function pageCsp(brandStyle: string | undefined): string {
  return [
    "default-src 'none'",
    // A portal's colour is one style attribute on <body>, allowed by its hash alone.
    brandStyle ? `style-src 'self' ${styleAttributeSource(brandStyle)}` : "style-src 'self'",
    "script-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data: https:",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Dead ends without a portal of their own: expired or finished sign-ins, errors, the logged-out page. */
const RETURN_PAGES = new Set([
  'expired',
  'error',
  'form-expired',
  'logged-out',
  'verify-link',
  'verify-done',
  'password-changed',
  'reset-password-invalid',
  'invitation-invalid',
  'unlock-invalid',
  'unlock-done',
]);

interface ErrorOut {
  error: string;
  error_description?: string;
}

/**
 * Renders the hosted pages (views/pages) with the locale, branding and CSRF token they all need.
 * The branding is the portal's on its pages (src/http/page-branding.ts), the operator's elsewhere.
 */
export class PageRenderer {
  readonly branding: PageBrandingResolver;

  constructor(private readonly operator: OperatorBranding) {
    this.branding = new PageBrandingResolver(operator);
  }

  localeOf(ctx: Context): Locale {
    return (ctx.state['locale'] as Locale | undefined) ?? negotiateLocale(undefined, ctx.get('accept-language'));
  }

  async render(ctx: Context, view: string, locals: Record<string, unknown> = {}, status = 200): Promise<void> {
    const locale = this.localeOf(ctx);
    const brand = await this.branding.resolve(ctx);
    // Pages that could strand a person offer the way back to their portal, remembered if need be.
    const back = brand.home ?? (RETURN_PAGES.has(view) ? await this.branding.lastPortal(ctx) : undefined);
    ctx.status = status;
    ctx.set('Content-Security-Policy', pageCsp(brand.style));
    ctx.set('Cache-Control', 'no-store');
    // ejs itself, templates compiled once: koa-views looked each template up on disk (fs.stat) at
    // every render, a tenth of a password login's CPU. Locals as koa-views gave them: ctx.state, then ours.
    ctx.type = 'text/html';
    ctx.body = await ejs.renderFile(
      viewsPath('pages', `${view}.ejs`),
      {
        ...ctx.state,
        t: translator(locale),
        locale,
        brand,
        // The operator's product (the account people have), whichever portal brands the page.
        productName: this.operator.productName,
        csrfToken: ctx.state['csrfToken'],
        // The <meta name="referrer"> repeats the header (a page may have tightened it): the two never disagree.
        referrerPolicy: ctx.response.get('Referrer-Policy') || 'same-origin',
        title: undefined,
        back,
        // The footer's switcher: this page again in each language (views/partials/foot.ejs).
        languages: LOCALES.map((code) => ({
          code,
          name: LANGUAGE_NAMES[code],
          href: languageHref(ctx, code),
          current: code === locale,
        })),
        ...locals,
      },
      { cache: true },
    );
  }

  /** Errors shown to people: a plain explanation, the code in small print, never a stack trace. */
  async renderError(ctx: Context, out: ErrorOut, _error?: unknown, status?: number): Promise<void> {
    const known = [
      'server_error',
      'invalid_request',
      'invalid_client',
      'invalid_redirect_uri',
      'access_denied',
      'login_required',
      'session_expired',
      'invalid_scope',
      'unauthorized_client',
      'request_too_large',
      'form_too_large',
      'form_malformed',
    ];
    const kind = known.includes(out.error) ? out.error : 'generic';
    await this.render(
      ctx,
      'error',
      { kind, code: out.error, description: out.error_description },
      status ?? Math.max(ctx.status, 400),
    );
  }
}
