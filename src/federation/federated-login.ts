import type { Context } from 'koa';
import { type AuditOrigin, type AuditTrail, originOf } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import {
  type EmailVerificationStart,
  type IdentifierRouting,
  type InteractionDetails,
  InteractionError,
  outcome,
  type StepOutcome,
  type UpstreamAdmission,
  type UpstreamSignInListener,
} from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import type { Storage } from '../storage/database.ts';
import type { UserRow } from '../storage/schema.ts';
import { isValidEmail } from '../users/email.ts';
import { requiresEmailVerification } from '../users/email-verification.ts';
import { UserRepository } from '../users/users.ts';
import type { BrowserBinding } from './browser-binding.ts';
import type { DomainRoutes } from './domain-routes.ts';
import type { FederatedIdentities } from './federated-identities.ts';
import { callbackUri } from './federation-callback-router.ts';
import type { AuthenticatedLogin, FederationLogins } from './federation-logins.ts';
import { type FederationSettings, isProviderName, type ProviderName } from './federation-settings.ts';
import type { UpstreamClients } from './upstream-client.ts';
import { type RefusalReason, type UpstreamIdentity, UpstreamRefusal } from './upstream-identity.ts';

/** What the federation pieces share; built once in app.ts. */
export interface Federation {
  settings: FederationSettings;
  upstreams: UpstreamClients;
  logins: FederationLogins;
  identities: FederatedIdentities;
  domains: DomainRoutes;
  binding: BrowserBinding;
}

/** What FederatedLogin uses, and nothing of the other capabilities but the email verification it may lead to. */
export interface FederatedLoginDependencies {
  config: Pick<Config, 'issuer'>;
  pages: Pick<PageRenderer, 'localeOf'>;
  logger: Logger;
  storage: Pick<Storage, 'db'>;
  federation: Federation;
  /** An account whose email is still unconfirmed verifies it before the sign-in goes on. */
  verification: EmailVerificationStart;
  /** Other steps' say on who signed in upstream (an invitation's address), before any account is touched. */
  upstreamAdmissions?: readonly UpstreamAdmission[] | undefined;
  /** Told who signed in and from which upstream tenant (organizations join people on it). */
  afterUpstreamSignIn: UpstreamSignInListener;
  /** Refused federated sign-ins and links added are recorded here (the success, by the pipeline). */
  audit?: AuditTrail | undefined;
}

/** RFC 8176 values an upstream may assert and Umbral may repeat when the operator trusts it. */
const REGISTERED_AMR = new Set([
  'face',
  'fpt',
  'geo',
  'hwk',
  'iris',
  'kba',
  'mca',
  'mfa',
  'otp',
  'pin',
  'pop',
  'pwd',
  'rba',
  'retina',
  'sc',
  'sms',
  'swk',
  'tel',
  'user',
  'vbm',
  'wia',
]);

/** Error reasons the error page explains (the callback's refusals, and the interaction's own). */
export type ErrorReason = RefusalReason | 'unverified_local' | 'disabled' | 'already_linked';
const ERROR_REASONS: readonly ErrorReason[] = [
  'denied',
  'unavailable',
  'failed',
  'wrong_tenant',
  'tenant_not_allowed',
  'domain_not_allowed',
  'email_missing',
  'expired',
  'unverified_local',
  'disabled',
  'already_linked',
];

/**
 * The interaction's side of signing in with Google or Microsoft: the redirect out (from a button,
 * or from the identifier step when the email's domain is routed), and what happens once the
 * callback has checked who signed in upstream: sign in a linked account, offer to link an
 * existing one, or create a new one. Every method answers a StepOutcome; a sign-in that passes
 * answers `outcome.login`, and the pipeline runs the second-factor step and the rest.
 */
export class FederatedLogin implements IdentifierRouting {
  private readonly users: UserRepository;

  constructor(private readonly deps: FederatedLoginDependencies) {
    this.users = new UserRepository(deps.storage.db);
  }

  private get federation(): Federation {
    return this.deps.federation;
  }

  /** Sends the browser to the provider; when it cannot be reached, the error page says so. */
  async start(
    ctx: Context,
    details: InteractionDetails,
    provider: ProviderName,
    loginHint?: string,
  ): Promise<StepOutcome> {
    const upstream = this.federation.upstreams.get(provider);
    if (!upstream) throw new InteractionError('not_found', `${provider} is not configured`);
    const binding = this.federation.binding.ensure(ctx);
    const login = await this.federation.logins.start(provider, details.uid, binding);
    let url: URL;
    try {
      url = await upstream.authorizationUrl({
        ...login,
        redirectUri: callbackUri(this.deps.config.issuer, provider),
        loginHint,
        locale: this.deps.pages.localeOf(ctx),
      });
    } catch (error) {
      if (!(error instanceof UpstreamRefusal)) throw error;
      await this.federation.logins.abandon(login.id);
      this.deps.logger.warn(
        { event: 'federation.refused', provider, uid: details.uid, reason: error.reason, detail: error.message },
        'upstream sign-in could not start',
      );
      return this.errorPage(details, provider, error.reason, 502);
    }
    this.deps.logger.info(
      { event: 'federation.started', provider, uid: details.uid, routed: loginHint !== undefined },
      'upstream sign-in started',
    );
    return outcome.redirect(url.href);
  }

  /**
   * Home-realm discovery at the identifier step (IdentifierRouting): the email (normalized by the
   * password step) of a routed domain goes straight to its provider. Undefined (the password step
   * goes on as ever) for anything else, so an unmapped domain behaves exactly as before and reveals nothing.
   */
  async route(ctx: Context, details: InteractionDetails, email: string): Promise<StepOutcome | undefined> {
    // Without Google or Microsoft configured no domain can be routed: no lookup.
    if (!isValidEmail(email) || this.federation.upstreams.names().length === 0) return undefined;
    const provider = await this.federation.domains.forEmail(email);
    if (!provider || !this.federation.upstreams.get(provider)) return undefined;
    return this.start(ctx, details, provider, email);
  }

  /** The federation error page: why, in the person's language, and a way back to the other methods. */
  errorPage(details: InteractionDetails, provider: string, reason: string, status = 400, email?: string): StepOutcome {
    const known = (ERROR_REASONS as readonly string[]).includes(reason) ? reason : 'failed';
    return outcome.page(
      'federation-error',
      {
        provider: isProviderName(provider) ? provider : undefined,
        reason: known,
        email,
        retryUrl: `/interaction/${details.uid}?step=identifier`,
      },
      status,
    );
  }

  /** The authenticated upstream sign-in this request names, if it belongs to this interaction and browser. */
  async pending(ctx: Context, details: InteractionDetails, id: unknown): Promise<AuthenticatedLogin | undefined> {
    return this.federation.logins.find(typeof id === 'string' ? id : '', details.uid, this.federation.binding.get(ctx));
  }

  /** After the callback: sign in, or the page that comes next (link, sign-up, or why neither). */
  async continue(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const login = await this.pending(ctx, details, ctx.query['login']);
    if (!login) return this.errorPage(details, String(ctx.query['provider'] ?? ''), 'expired');
    const { identity } = login;
    for (const admission of this.deps.upstreamAdmissions ?? []) {
      const refused = await admission.admit(ctx, details, identity);
      if (refused) {
        await this.federation.logins.finish(login.id);
        return refused;
      }
    }
    const linked = await this.federation.identities.find(identity);
    if (linked) {
      const user = await this.users.findById(linked.user_id);
      if (!user || user.disabled) {
        this.refused(ctx, details, login.provider, 'disabled', user?.id);
        return this.errorPage(details, login.provider, 'disabled', 403);
      }
      await this.federation.identities.recordLogin(linked.id, identity);
      return this.signIn(ctx, details, login, user);
    }
    const local = identity.email ? await this.users.findByEmail(identity.email) : undefined;
    // An unverified upstream email proves nothing: it goes through sign-up and its email check,
    // which (like the password sign-up) never tells whether the email already has an account.
    if (!identity.emailVerified || !local)
      return outcome.redirect(`/interaction/${details.uid}/federation/signup?login=${encodeURIComponent(login.id)}`);
    // Linking into an unverified account would hand it to whoever registered that email first.
    if (!local.email_verified || requiresEmailVerification(local)) {
      this.refused(ctx, details, login.provider, 'unverified_local', local.id);
      return this.errorPage(details, login.provider, 'unverified_local', 409, local.email);
    }
    if (local.disabled) {
      this.refused(ctx, details, login.provider, 'disabled', local.id);
      return this.errorPage(details, login.provider, 'disabled', 403);
    }
    if (this.federation.settings.autoLink) {
      const linkedNow = await this.link(local, identity, details.uid, 'automatic', originOf(ctx));
      if (!linkedNow) {
        this.refused(ctx, details, login.provider, 'already_linked', local.id);
        return this.errorPage(details, login.provider, 'already_linked', 409);
      }
      return this.signIn(ctx, details, login, local);
    }
    return outcome.redirect(`/interaction/${details.uid}/federation/link?login=${encodeURIComponent(login.id)}`);
  }

  async link(
    user: UserRow,
    identity: UpstreamIdentity,
    uid: string,
    proof: 'password' | 'automatic',
    origin: AuditOrigin,
  ): Promise<boolean> {
    const row = await this.federation.identities.link(user.id, identity);
    if (row) {
      this.deps.logger.info(
        { event: 'federation.linked', provider: identity.provider, uid, accountId: user.id, proof },
        'upstream identity linked',
      );
      this.deps.audit?.record({
        type: 'federation.linked',
        actor: { kind: 'user', id: user.id },
        subjectUserId: user.id,
        ...origin,
        data: { provider: identity.provider, proof },
      });
    }
    return row !== undefined;
  }

  /**
   * A refused federated sign-in, for the audit log: tied to the account it concerns when there is
   * one (a disabled or unverified account), to no one when the upstream refused or nothing matched.
   */
  refused(ctx: Context, details: InteractionDetails, provider: string, reason: string, userId?: string): void {
    this.deps.audit?.record({
      type: 'sign_in.failed',
      actor: userId ? { kind: 'user', id: userId } : { kind: 'system' },
      subjectUserId: userId,
      ...originOf(ctx),
      data: {
        method: isProviderName(provider) ? provider : 'federation',
        reason,
        portal: String(details.params['client_id'] ?? ''),
      },
    });
  }

  /**
   * The first factor passed: `outcome.login`, and the pipeline runs the second-factor step and the
   * rest; or, for an account whose email is still unconfirmed, the email verification first.
   * `proof` adds what the person also proved here (the password when linking).
   */
  async signIn(
    ctx: Context,
    details: InteractionDetails,
    login: AuthenticatedLogin,
    user: UserRow,
    proof: string[] = [],
  ): Promise<StepOutcome> {
    if (!(await this.federation.logins.finish(login.id))) return this.errorPage(details, login.provider, 'expired');
    await this.announce(details, login, user);
    const amr = this.amrFor(login.identity, proof);
    if (requiresEmailVerification(user)) {
      return this.deps.verification.begin(ctx, details, { user, typedEmail: user.email, reason: 'login', amr });
    }
    await this.users.recordLogin(user.id);
    this.deps.logger.info(
      { event: 'login.succeeded', uid: details.uid, accountId: user.id, via: login.provider, amr },
      'federated login',
    );
    return outcome.login({ accountId: user.id, amr });
  }

  /**
   * The upstream proved this account's identity (it is linked to it): whoever acts on the upstream
   * tenant is told, before the email verification or second factor. The tenant counts even when
   * the email is still unverified, since it comes from the signed ID token, not from the email.
   * Nothing it does or fails to do stops the sign-in.
   */
  private async announce(details: InteractionDetails, login: AuthenticatedLogin, user: UserRow): Promise<void> {
    try {
      await this.deps.afterUpstreamSignIn.upstreamSignIn({
        accountId: user.id,
        provider: login.provider,
        tenant: login.identity.tenant,
        uid: details.uid,
      });
    } catch (error) {
      this.deps.logger.error(
        { event: 'federation.after_sign_in_failed', provider: login.provider, uid: details.uid, err: error },
        'what follows an upstream sign-in failed; the sign-in goes on',
      );
    }
  }

  /**
   * `fed`, plus what the person proved here, plus (only when the operator trusts the upstream's
   * authentication) the upstream's own values: an upstream `mfa` then satisfies the second-factor
   * gate, otherwise it does not. The upstream's values are recorded on the link either way.
   */
  amrFor(identity: UpstreamIdentity, proof: string[] = []): string[] {
    const upstream = this.federation.settings.trustUpstreamMfa ? identity.amr.filter((v) => REGISTERED_AMR.has(v)) : [];
    return [...new Set(['fed', ...proof, ...upstream])];
  }
}
