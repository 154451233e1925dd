import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { type AuditTrail, NO_AUDIT, originOf } from '../audit/audit-event.ts';
import {
  type FirstFactor,
  type InteractionDetails,
  InteractionError,
  isOutcome,
  outcome,
  type SignInStep,
  type StepOutcome,
} from './interaction.ts';

/**
 * Runs the steps src/app.ts declares, in their order. GET /interaction/:uid asks each step's
 * `resume` which page comes now; after a first factor each step's `enter` may pause the sign-in
 * (second factor, organization, company data…) and the last one passing it on ends the
 * interaction with the login. That one place, whatever the method, records `sign_in.succeeded`
 * in the audit log (method from amr, portal, organization when a step decided one), and tells
 * the listeners given to `recordingTo` (the organizations' sign-in events), which must not wait.
 */
export class SignInPipeline {
  private readonly names: string[];

  private audit: AuditTrail = NO_AUDIT;

  private listeners: readonly SignInListener[] = [];

  constructor(readonly steps: readonly SignInStep[]) {
    this.names = steps.map((step) => step.name);
    const duplicate = this.names.find((name, index) => this.names.indexOf(name) !== index);
    if (duplicate) throw new Error(`two sign-in steps are named "${duplicate}"`);
  }

  /** Where completed sign-ins are recorded (src/audit, and listeners such as sign-in events); none until set. */
  recordingTo(audit: AuditTrail, ...listeners: SignInListener[]): this {
    this.audit = audit;
    this.listeners = listeners;
    return this;
  }

  /** The page for GET /interaction/:uid: the first step that claims the interaction. */
  async resume(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    for (const step of this.steps) {
      const answer = await step.resume?.(ctx, details);
      if (answer) return answer;
    }
    throw new InteractionError('interaction_expired', `no step serves the prompt ${details.prompt.name}`);
  }

  /** The sign-in after a first factor, from the step after `after` (or the first): a pause, or the result. */
  async continue(ctx: Context, details: InteractionDetails, first: FirstFactor, after?: string): Promise<StepOutcome> {
    const start = after === undefined ? 0 : this.names.indexOf(after) + 1;
    if (start === 0 && after !== undefined) throw new Error(`no sign-in step is named "${after}"`);
    let login = first;
    for (const step of this.steps.slice(start)) {
      if (!step.enter) continue;
      const passed = await step.enter(ctx, details, login);
      if (isOutcome(passed)) return passed;
      login = passed;
    }
    this.audit.record({
      type: 'sign_in.succeeded',
      actor: { kind: 'user', id: login.accountId },
      subjectUserId: login.accountId,
      organizationId: login.organizationId,
      ...originOf(ctx),
      data: { amr: login.amr, acr: login.acr ?? null, portal: String(details.params['client_id'] ?? '') },
    });
    const completed = {
      accountId: login.accountId,
      amr: login.amr,
      organizationId: login.organizationId ?? null,
      clientId: String(details.params['client_id'] ?? ''),
    };
    for (const listener of this.listeners) listener.signedIn(completed);
    const result = {
      ...login.extraResults,
      login: { accountId: login.accountId, amr: login.amr, remember: true, ...acrOf(login) },
    };
    return outcome.result(answeringCreate(details, result));
  }
}

/** Told of every completed sign-in, synchronously: it must neither throw nor wait (buffer, write later). */
export interface SignInListener {
  signedIn(login: { accountId: string; amr: readonly string[]; organizationId: string | null; clientId: string }): void;
}

function acrOf(login: FirstFactor): { acr?: string } {
  return login.acr ? { acr: login.acr } : {};
}

/** A login also answers prompt=create when that was asked, or oidc-provider would ask it again. */
function answeringCreate(details: InteractionDetails, result: InteractionResults): InteractionResults {
  const asked =
    details.prompt.name === 'create' ||
    String(details.params['prompt'] ?? '')
      .split(' ')
      .includes('create');
  return asked ? { ...result, create: {} } : result;
}
