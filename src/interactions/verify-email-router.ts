import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Config } from '../config/config.ts';
import { bodyParser } from '../http/body-parser.ts';
import { csrfProtection, expiredFormPage } from '../http/csrf.ts';
import { seeOther } from '../http/form.ts';
import { LinkTokenCookie } from '../http/link-token-cookie.ts';
import { brandPageFor } from '../http/page-branding.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { Logger } from '../logging/logger.ts';
import type { Storage } from '../storage/database.ts';
import { EmailVerifications, VERIFICATION_LIMITS } from '../users/email-verification.ts';
import { VerificationCookies } from './verification-step.ts';

export interface VerifyEmailLinkDependencies {
  config: Config;
  provider: Provider;
  storage: Storage;
  pages: PageRenderer;
  logger: Logger;
}

/**
 * The link in the verification email. Its first GET moves the token into a cookie and 303s to
 * /verify-email without it (link-token-cookie.ts); that page only shows a confirmation button:
 * mail scanners and link previews fetch GET links, and must neither use up the link nor verify
 * anyone. The button's POST (submitted by script where there is one) verifies; in the browser that
 * signed up (its interaction still open) the sign-in then continues, elsewhere it goes on to the
 * portal's own sign-in (initiate_login_uri), or a "cuenta verificada" page points back to it.
 * The form carries no field of its own (CSRF aside): there is nothing for a schema to parse.
 */
export function verifyEmailRouter(deps: VerifyEmailLinkDependencies): Router {
  const { pages, provider } = deps;
  const store = new EmailVerifications(deps.storage.db);
  const cookies = new VerificationCookies(deps.config.secure);
  const link = new LinkTokenCookie({
    name: 'umbral.verify-email-link',
    path: '/verify-email',
    secure: deps.config.secure,
    linkTtlSeconds: VERIFICATION_LIMITS.linkTtlSeconds,
  });
  const router = new Router({ prefix: '/verify-email' });
  // The link's token is still in its cookie: the link's page opens again from it.
  router.use(expiredFormPage(pages, () => '/verify-email'));
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '4kb' }));
  router.use(csrfProtection({ issuer: deps.config.issuer, secure: deps.config.secure }));

  router.get('/', async (ctx) => {
    if (link.takeFromUrl(ctx)) return;
    const verification = await store.findByToken(link.read(ctx));
    const live = verification && !verification.data.verified && store.isLinkLive(verification);
    if (!live) link.clear(ctx);
    if (verification?.data.verified) return seeOther(ctx, doneUrl(verification.data.clientId));
    if (!live) return pages.render(ctx, 'verify-link', { valid: false }, 400);
    brandPageFor(ctx, verification.data.clientId);
    await pages.render(ctx, 'verify-link', { valid: true, email: verification.data.email });
  });

  router.post('/', async (ctx) => {
    const verified = await store.confirmLink(link.read(ctx));
    link.clear(ctx);
    if (!verified) return pages.render(ctx, 'verify-link', { valid: false }, 400);
    deps.logger.info({ event: 'email_verification.verified', via: 'link', uid: verified.data.uid }, 'email verified');
    const uid = verified.data.uid;
    const sameBrowser = cookies.getFromLink(ctx) === verified.id;
    if (uid && sameBrowser) {
      const interaction = await provider.Interaction.find(uid);
      // The interaction page sees the verified code and completes the sign-in.
      if (interaction && !interaction.isExpired) return seeOther(ctx, `/interaction/${uid}`);
    }
    // Elsewhere (another device, the sign-up's sign-in gone): straight to the portal's own sign-in,
    // as its users expect; the "cuenta verificada" page only for a portal that registered none.
    const signIn = await portalSignIn(provider, verified.data.clientId);
    seeOther(ctx, signIn ?? doneUrl(verified.data.clientId));
  });

  router.get('/done', async (ctx) => {
    const clientId = typeof ctx.query['client_id'] === 'string' ? ctx.query['client_id'] : undefined;
    const client = clientId ? await provider.Client.find(clientId).catch(() => undefined) : undefined;
    brandPageFor(ctx, client?.clientId);
    const clientUrl = client ? safeUrl(client['initiateLoginUri'] ?? client['clientUri']) : undefined;
    await pages.render(ctx, 'verify-done', { clientName: client?.clientName ?? clientId, clientUrl });
  });

  return router;
}

async function portalSignIn(provider: Provider, clientId: string | undefined): Promise<string | undefined> {
  const client = clientId ? await provider.Client.find(clientId).catch(() => undefined) : undefined;
  return client ? safeUrl(client['initiateLoginUri']) : undefined;
}

function doneUrl(clientId: string | undefined): string {
  return clientId ? `/verify-email/done?client_id=${encodeURIComponent(clientId)}` : '/verify-email/done';
}

/** Only http(s) links are offered back to the portal. */
function safeUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const url = URL.parse(value);
  return url && (url.protocol === 'https:' || url.protocol === 'http:') ? url.href : undefined;
}
