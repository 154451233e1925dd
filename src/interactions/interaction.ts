import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';

/**
 * The sign-in's shared vocabulary. Every capability that takes part in an interaction (password,
 * sign-up, verification, second factors, federation, and later invitations and organizations)
 * depends on this leaf module and on nothing of each other; src/app.ts puts them in order.
 */

/** What oidc-provider knows of the interaction bound to this browser. */
export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/** What a first factor proved: who signed in, and how (RFC 8176 amr values). */
export interface FirstFactor {
  accountId: string;
  amr: string[];
  acr?: string;
  /**
   * A later step's policy (an organization's require_mfa) demands the second factor, whatever the
   * portal or the request asks: the second-factor step asks it, or enrollment. Set by the step that
   * sends the login back through the steps (`outcome.login(login)`).
   */
  mfaRequired?: boolean;
  /**
   * What steps decided for this authorization besides the login (e.g. `organization`), handed to
   * oidc-provider with it: its checks read them as `ctx.oidc.result`.
   */
  extraResults?: Record<string, unknown>;
  /** The organization the sign-in is for, once a step decided one (the audit log records it). */
  organizationId?: string;
}

/** A sign-in every factor of which has passed: what the session records. */
export interface ProvenLogin {
  accountId: string;
  amr: string[];
  acr: string;
}

/**
 * What a step answers. One place renders it (interaction-outcomes.ts), so no step writes a
 * status or a Location header of its own, and every POST ends in a 303.
 */
export type StepOutcome =
  /** 303 to another page (the step's next page, or the interaction's current step). */
  | { type: 'redirect'; location: string; headers?: Record<string, string> }
  /** A page of views/pages, with its status (400 for a refused form, 429 when throttled). */
  | { type: 'page'; view: string; locals: Record<string, unknown>; status: number; headers?: Record<string, string> }
  /** JSON for the WebAuthn script: never cached. */
  | { type: 'json'; body: unknown; status: number; headers?: Record<string, string> }
  /** A first factor passed: the sign-in goes on through the steps after `after` (from the first when absent). */
  | { type: 'login'; login: FirstFactor; after?: string }
  /** The interaction ends: oidc-provider's result (a login, a consent, an error). */
  | { type: 'result'; result: InteractionResults; merge: boolean };

/** Builders for StepOutcome, so steps read as sentences: `return outcome.page('verify', {...}, 400)`. */
export const outcome = {
  /** `headers`, e.g. Retry-After on a 303 back to a throttled form. */
  redirect: (location: string, headers?: Record<string, string>): StepOutcome => ({
    type: 'redirect',
    location,
    ...(headers ? { headers } : {}),
  }),
  /** Back to the interaction's current step (a form resubmitted after the step changed, a lost cookie). */
  back: (uid: string): StepOutcome => ({ type: 'redirect', location: `/interaction/${uid}` }),
  page: (view: string, locals: Record<string, unknown> = {}, status = 200, headers?: Record<string, string>) =>
    ({ type: 'page', view, locals, status, ...(headers ? { headers } : {}) }) satisfies StepOutcome as StepOutcome,
  json: (body: unknown, status = 200): StepOutcome => ({ type: 'json', body, status }),
  login: (login: FirstFactor, after?: string): StepOutcome => ({ type: 'login', login, ...(after ? { after } : {}) }),
  result: (result: InteractionResults, merge = false): StepOutcome => ({ type: 'result', result, merge }),
};

/** Stable codes of the errors a step may throw; each has its page and status (interaction-outcomes.ts). */
export type InteractionErrorCode =
  /** The interaction expired, finished already, or belongs to another browser. */
  | 'interaction_expired'
  /** No such thing here (an unknown upstream provider, a step that is not configured). */
  | 'not_found';

/** The one error a step throws instead of answering; rendered in the person's language. */
export class InteractionError extends Error {
  constructor(
    readonly code: InteractionErrorCode,
    message: string = code,
  ) {
    super(message);
    this.name = 'InteractionError';
  }
}

/** A route a capability adds under /interaction/:uid, sharing its loading, CSRF check and error page. */
export interface InteractionRoute {
  method: 'get' | 'post';
  /** Below /interaction/:uid, e.g. '/mfa/totp'. */
  path: string;
  /** Which prompt the route serves; any other sends the browser back to the current step. Default 'sign-in'. */
  during?: 'sign-in' | 'consent' | 'any';
  /** What to answer when this browser's interaction is gone (expired, finished); default the expired page. */
  whenGone?: StepOutcome;
  handle(ctx: Context, details: InteractionDetails): Promise<StepOutcome>;
}

/**
 * One step of the sign-in. src/app.ts lists the steps in order; each implements what it needs:
 * - `routes`: its pages and forms;
 * - `resume`: asked in order on GET /interaction/:uid; the first that answers decides the page;
 * - `enter`: after a first factor, each step's `enter` runs in order. It passes the login on
 *   (amended, e.g. with the acr it proved) or pauses the sign-in on a page of its own; that page
 *   later answers `outcome.login(login, step.name)` and the sign-in goes on after this step.
 */
export interface SignInStep {
  readonly name: string;
  readonly routes?: readonly InteractionRoute[];
  resume?(ctx: Context, details: InteractionDetails): Promise<StepOutcome | undefined>;
  enter?(ctx: Context, details: InteractionDetails, login: FirstFactor): Promise<FirstFactor | StepOutcome>;
  /** Brands every page of the interaction with what this step decided (an organization's logo). */
  brand?(ctx: Context, details: InteractionDetails): Promise<void>;
}

/** Sign-in or sign-up: prompt=login, or prompt=create (sign-up first, with a way to the login). */
export function isSigningIn(details: InteractionDetails): boolean {
  return details.prompt.name === 'login' || details.prompt.name === 'create';
}

/** Whether `enter` passed the login on (a FirstFactor) or paused on an outcome of its own. */
export function isOutcome(value: FirstFactor | StepOutcome): value is StepOutcome {
  return 'type' in value;
}

/** The email verification a password or upstream sign-in leads to when the account's email is unproven. */
export interface EmailVerificationStart {
  begin(ctx: Context, details: InteractionDetails, target: VerificationTarget): Promise<StepOutcome>;
}

/** The account whose email is to be verified, and where its email goes. */
export interface VerificationTarget {
  user: { id: string; email: string; name: string | null; locale: string | null };
  /** The address as typed on this page (shown back; the same for real and decoy sign-ups). */
  typedEmail: string;
  reason: 'signup' | 'login';
  /** A sign-up with an email that already has an account: same page, but nothing can verify it. */
  decoy?: boolean;
  /** How the person signed in (e.g. ['fed'] after Google or Microsoft); absent: the password was given. */
  amr?: string[] | undefined;
}

/**
 * Where an email typed at the identifier step may send the sign-in instead of the password step
 * (federation's domain routing); undefined leaves the email to the password step, revealing nothing.
 */
export interface IdentifierRouting {
  route(ctx: Context, details: InteractionDetails, email: string): Promise<StepOutcome | undefined>;
}

/**
 * An address a sign-up in this interaction must use (an invitation's): the sign-up form shows it
 * read-only and ignores any other email posted. Undefined leaves the sign-up as ever.
 */
export interface SignUpAddress {
  fixedEmail(ctx: Context, details: InteractionDetails): Promise<string | undefined>;
}

/** Who signed in upstream, as far as other steps need to know before federation signs anyone in. */
export interface UpstreamAccount {
  provider: string;
  email: string | undefined;
  emailVerified: boolean;
}

/**
 * A step's say on an upstream sign-in, asked before federation signs in, links or creates any
 * account: a refusal page of the step's own (an invitation for another address), or undefined.
 */
export interface UpstreamAdmission {
  admit(ctx: Context, details: InteractionDetails, account: UpstreamAccount): Promise<StepOutcome | undefined>;
}

/** Starts a sign-in with Google or Microsoft from another step (an invitation's "Continuar con Google"). */
export interface UpstreamSignInStart {
  /** The configured providers, e.g. ['google', 'microsoft']. */
  names(): readonly string[];
  start(ctx: Context, details: InteractionDetails, provider: string, loginHint?: string): Promise<StepOutcome>;
}

/**
 * What an upstream sign-in (Google, Microsoft) tells the capabilities that act on who the person is
 * upstream, once the account linked to that upstream identity is known: organizations join people
 * on their tenant. Called once per upstream sign-in, before the email verification or second
 * factor it may lead to. It never refuses the sign-in: what it cannot do, it logs.
 */
export interface UpstreamSignInListener {
  upstreamSignIn(event: UpstreamSignIn): Promise<void>;
}

export interface UpstreamSignIn {
  accountId: string;
  provider: 'google' | 'microsoft';
  /** From the verified ID token: Microsoft's `tid`, Google's Workspace domain (`hd`); never the email's domain. */
  tenant: string | undefined;
  /** The interaction, for the logs. */
  uid: string;
}
