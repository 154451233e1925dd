import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { AccountAccess } from '../account/account-access.ts';
import { type AccountPagesDependencies, mountAccountPages } from '../account/account-pages.ts';
import type { AccountSection } from '../account/account-router.ts';
import { AccountSignIn } from '../account/account-sign-in.ts';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { Federation } from '../federation/federated-login.ts';
import { identitiesRouter } from '../federation/identities-router.ts';
import type { Mfa } from '../mfa/mfa.ts';
import { securityRouter } from '../mfa/security-router.ts';
import { ORG_CONSOLE_PATH } from '../org-console/org-console.ts';
import { INVITATION_LANDING_PATH } from '../organizations/invitation-cookies.ts';

/**
 * The account page (/account) and the sections other capabilities add to it (second factors,
 * linked identities), all signed in through Umbral's own login as the built-in account client.
 * Returns that sign-in and its access check, which the company console, the operator console
 * and invitations use too.
 */
export function mountAccountArea(
  app: Koa,
  deps: Omit<AccountPagesDependencies, 'signIn' | 'sections'> & {
    provider: Provider;
    audit: AuditTrail;
    mfa: Mfa;
    federation: Federation;
  },
): { accountSignIn: AccountSignIn; access: AccountAccess } {
  const { config, provider, pages, logger, mfa, federation, audit, throttle } = deps;
  // The sign-ins an invitation page and the company console start return there
  // (src/organizations/invitation-router.ts, src/org-console).
  const accountSignIn = new AccountSignIn({
    provider,
    issuer: config.issuer,
    secure: config.secure,
    logger,
    returnPaths: [INVITATION_LANDING_PATH, ORG_CONSOLE_PATH],
  });
  const sections: AccountSection[] = [];
  const access = mountAccountPages(app, { ...deps, signIn: accountSignIn, sections });
  sections.push({
    href: '/account/security',
    titleKey: 'mfa.section.title',
    descriptionKey: 'mfa.section.description',
  });
  app.use(securityRouter({ config, pages, access, signIn: accountSignIn, mfa, throttle, logger }).routes());
  if (federation.upstreams.names().length) {
    sections.push({
      href: '/account/identities',
      titleKey: 'federation.account.title',
      descriptionKey: 'federation.account.description',
    });
  }
  app.use(
    identitiesRouter({
      pages,
      access,
      identities: federation.identities,
      logger,
      hasPasskey: async (userId) => (await mfa.factors.passkeys(userId)).length > 0,
      audit,
    }).routes(),
  );
  return { accountSignIn, access };
}
