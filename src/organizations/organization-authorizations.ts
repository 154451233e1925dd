import type { Middleware } from 'koa';
import {
  type Configuration,
  errors,
  type Grant,
  interactionPolicy,
  type KoaContextWithOIDC,
  type Session,
} from 'oidc-provider';
import type { Logger } from '../logging/logger.ts';
import { levelOfAmr } from '../mfa/authentication-level.ts';
import { STEP_UP_REASON } from '../mfa/login-checks.ts';
import { isOrganizationReference, ORGANIZATION_PARAM, requestMode } from './client-organization.ts';
import { type Choice, isOrganizationAnswer, type OrganizationChooser } from './organization-choice.ts';
import type { OrganizationGrant, OrganizationGrants } from './organization-grants.ts';
import { SIGN_IN_METHODS, type SignInMethod } from './organization-input.ts';
import { type SessionUpstreams, type SignInWay, signInWayOf, type Upstream } from './sign-in-methods.ts';

const { Check, Prompt } = interactionPolicy;

/** The prompt oidc-provider opens for a session already signed in whose organization is not settled. */
export const ORGANIZATION_PROMPT = 'organization';

/** Its reasons: several organizations to pick from; none usable; a sign-in method the organization refuses. */
export const ORGANIZATION_REASONS = {
  choose: 'organization_choice',
  unavailable: 'organization_unavailable',
  method: 'organization_method',
} as const;

/** Where the prompt's details carry how the session signed in (the step judges the policy with it). */
export const SIGN_IN_DETAIL = 'organizationSignIn';

/** How a session signed in, as the organization policy reads it (see sign-in-methods.ts). */
export type SessionSignIn = SignInWay & { mfa: boolean };

interface Decision {
  choice: Choice;
  /** The organization the request's grant is for already, when it is. */
  bound: OrganizationGrant | undefined;
}

/** One decision per authorization request: made when oidc-provider loads the grant, read by the checks and afterwards. */
const decisions = new WeakMap<object, Decision>();

export interface OrganizationAuthorizationsDependencies {
  chooser: OrganizationChooser;
  grants: Pick<OrganizationGrants, 'find' | 'bind' | 'revoke'>;
  upstreams: Pick<SessionUpstreams, 'find' | 'record'>;
  /** The upstream provider the account last signed in with (federation's linked identities). */
  latestUpstream: (accountId: string) => Promise<Upstream | undefined>;
  logger: Logger;
}

/**
 * The organization of every authorization, where oidc-provider decides without asking anyone: a
 * session already signed in may get its code without any interaction. When oidc-provider loads
 * the request's grant, the organization is decided (organization-choice.ts); its checks then open
 * an interaction when the choice needs the person (the picker), cannot be made (a refusal page),
 * or the organization's policy needs more (its second factor: a step-up of the login; a method it
 * does not allow) — with prompt=none, the portal gets interaction_required (login_required for
 * the second factor) instead. Once the code is issued, the grant is recorded as the organization's.
 */
export class OrganizationAuthorizations {
  constructor(private readonly deps: OrganizationAuthorizationsDependencies) {}

  /** The `organization=` authorization parameter: an id or a slug; anything else is the portal's mistake. */
  readonly extraParams = {
    [ORGANIZATION_PARAM]: (_ctx: KoaContextWithOIDC, value: string | undefined) => {
      if (value !== undefined && !isOrganizationReference(value)) {
        throw new errors.InvalidRequest(`${ORGANIZATION_PARAM} must be the id or the slug of an organization`);
      }
    },
  };

  /** The login prompt asks the organization's second factor (step-up); the organization prompt comes before consent. */
  extendPolicy(policy: ReturnType<typeof interactionPolicy.base>): void {
    const login = policy.get('login');
    if (!login) throw new Error('the interaction policy has no login prompt');
    // Same reason as the portals' own step-up (src/mfa/login-checks.ts): only the second factor is asked.
    login.checks.add(
      new Check(STEP_UP_REASON, 'the organization requires a second factor', 'login_required', (ctx) => {
        if (ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
        const choice = decisions.get(ctx.oidc)?.choice;
        return choice?.kind === 'organization' && choice.problem === 'mfa';
      }),
    );
    const ask = (reason: string, description: string, when: (choice: Choice) => boolean) =>
      new Check(reason, description, 'interaction_required', (ctx) => {
        const choice = decisions.get(ctx.oidc)?.choice;
        return choice ? when(choice) : Check.NO_NEED_TO_PROMPT;
      });
    const prompt = new Prompt(
      { name: ORGANIZATION_PROMPT, requestable: false },
      async (ctx) => ({ [SIGN_IN_DETAIL]: await this.sessionSignIn(ctx.oidc.session) }),
      ask(ORGANIZATION_REASONS.choose, 'the End-User must choose an organization', (c) => c.kind === 'choose'),
      ask(
        ORGANIZATION_REASONS.unavailable,
        'no organization of the End-User can be used at this client',
        (c) => c.kind === 'unavailable',
      ),
      ask(
        ORGANIZATION_REASONS.method,
        'the organization does not allow the sign-in method the End-User used',
        (c) => c.kind === 'organization' && c.problem === 'method',
      ),
    );
    const consent = policy.findIndex((p) => p.name === 'consent');
    policy.add(prompt, consent === -1 ? policy.length : consent);
  }

  /**
   * oidc-provider's loadExistingGrant, deciding the organization on the way. A request settled on
   * another organization than the one its grant is for gets a new grant with the same consent,
   * and the old grant goes with its tokens: switching never re-labels what was issued before.
   */
  wrapLoadExistingGrant(
    loadExistingGrant: NonNullable<Configuration['loadExistingGrant']>,
  ): NonNullable<Configuration['loadExistingGrant']> {
    return async (ctx) => {
      const grant = await loadExistingGrant(ctx);
      const decision = await this.decide(ctx, grant);
      if (!decision) return grant;
      decisions.set(ctx.oidc, decision);
      const settled = settledOrganization(decision.choice);
      if (!grant || !decision.bound || settled === undefined || settled === decision.bound.organizationId) return grant;
      return this.replace(ctx, grant, settled);
    };
  }

  /**
   * In front of oidc-provider (provider.use): once an authorization has issued its code, the
   * grant is recorded as the organization's (or as for none), and the organization's single_session ends the
   * person's other sessions. A federated sign-in's provider is recorded for its session.
   */
  afterAuthorization(options: {
    endOtherSessions: (input: { accountId: string; clientId: string; keepSessionUid: string }) => Promise<number>;
    /** Seconds a grant and a session last (the provider's TTL), for rows written before oidc-provider says. */
    ttl: { Grant: number; Session: number };
  }): Middleware {
    return async (ctx, next) => {
      await next();
      const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
      if (!oidc || (oidc.route !== 'authorization' && oidc.route !== 'resume')) return;
      await this.recordUpstream(oidc, options.ttl.Session);
      const code = oidc.entities.AuthorizationCode;
      const choice = decisions.get(oidc)?.choice;
      const { accountId, clientId, grantId } = code ?? {};
      const settled = choice ? settledOrganization(choice) : undefined;
      if (!accountId || !clientId || !grantId || settled === undefined) return;
      const grantExp = oidc.entities.Grant?.exp;
      await this.deps.grants.bind({
        grantId,
        organizationId: settled,
        accountId,
        clientId,
        expiresAt: new Date((grantExp ?? Math.floor(Date.now() / 1000) + options.ttl.Grant) * 1000),
      });
      if (choice?.kind === 'organization' && choice.organization.row.single_session) {
        await options.endOtherSessions({ accountId, clientId, keepSessionUid: oidc.session!.uid });
      }
    };
  }

  /** How a session signed in: its amr, and the provider recorded for a federated sign-in. */
  async sessionSignIn(session: Session | undefined): Promise<SessionSignIn> {
    const amr = session?.amr ?? [];
    const upstream = session?.uid ? await this.deps.upstreams.find(session.uid, session.loginTs) : undefined;
    return { ...signInWayOf(amr, upstream), mfa: levelOfAmr(amr) === 'mfa' };
  }

  private async decide(ctx: KoaContextWithOIDC, grant: Grant | undefined): Promise<Decision | undefined> {
    const { oidc } = ctx;
    const client = oidc.client as unknown as Record<string, unknown> | undefined;
    const params = oidc.params as Record<string, unknown>;
    const mode = requestMode(client, params);
    const accountId = oidc.session?.accountId;
    if (!mode || !accountId || !oidc.client) return undefined;
    const found = grant?.jti ? await this.deps.grants.find(grant.jti) : undefined;
    const bound = found?.accountId === accountId && found.clientId === oidc.client.clientId ? found : undefined;
    const result = oidc.result as Record<string, unknown> | undefined;
    const chosen = isOrganizationAnswer(result?.[ORGANIZATION_PROMPT]) ? result[ORGANIZATION_PROMPT] : undefined;
    const named = params[ORGANIZATION_PARAM];
    const choice = await this.deps.chooser.decide({
      accountId,
      mode,
      named: typeof named === 'string' && named ? named : undefined,
      chosen,
      remembered: bound?.organizationId ?? undefined,
      // A login in this very request passed the sign-in step, which judged the policy already.
      signIn: result?.['login'] && chosen ? undefined : await this.sessionSignIn(oidc.session),
    });
    return { choice, bound };
  }

  private async replace(ctx: KoaContextWithOIDC, old: Grant, settled: string | null): Promise<Grant> {
    const fresh = new ctx.oidc.provider.Grant({ accountId: old.accountId, clientId: old.clientId });
    if (old.openid) fresh.openid = structuredClone(old.openid);
    if (old.resources) fresh.resources = structuredClone(old.resources);
    if (old.rejected) fresh.rejected = structuredClone(old.rejected);
    await fresh.save();
    await this.deps.grants.revoke(old.jti);
    this.deps.logger.info(
      { event: 'organization.switched', clientId: old.clientId, accountId: old.accountId, organizationId: settled },
      'authorization switched organization: the previous grant and its tokens are revoked',
    );
    return fresh;
  }

  private async recordUpstream(oidc: KoaContextWithOIDC['oidc'], sessionTtl: number): Promise<void> {
    const login = oidc.result?.login;
    const { session } = oidc;
    if (oidc.route !== 'resume' || !login || !session || session.accountId !== login.accountId) return;
    if (!session.amr?.includes('fed') || !session.loginTs) return;
    const upstream = await this.deps.latestUpstream(login.accountId);
    if (!upstream) return;
    const exp = session.exp ?? Math.floor(Date.now() / 1000) + sessionTtl;
    await this.deps.upstreams.record({
      sessionUid: session.uid,
      loginTs: session.loginTs,
      upstream,
      expiresAt: new Date(exp * 1000),
    });
  }
}

/** The organization a choice settles on (null: none), or undefined while the person must still act. */
function settledOrganization(choice: Choice): string | null | undefined {
  if (choice.kind === 'without') return null;
  if (choice.kind === 'organization' && !choice.problem) return choice.organization.row.id;
  return undefined;
}

/** How the session signed in, as the organization prompt's check read it (its details); from amr alone otherwise. */
export function signInOfPrompt(details: {
  prompt: { details: Record<string, unknown> };
  session?: { amr?: string[] | undefined } | undefined;
}): SessionSignIn {
  const detail = details.prompt.details[SIGN_IN_DETAIL] as Partial<SessionSignIn> | undefined;
  const amr = Array.isArray(details.session?.amr) ? details.session.amr : [];
  if (!detail || !Array.isArray(detail.methods))
    return { ...signInWayOf(amr, undefined), mfa: levelOfAmr(amr) === 'mfa' };
  return {
    methods: detail.methods.filter((m): m is SignInMethod => (SIGN_IN_METHODS as readonly unknown[]).includes(m)),
    unknownUpstream: detail.unknownUpstream === true,
    mfa: detail.mfa === true,
  };
}
