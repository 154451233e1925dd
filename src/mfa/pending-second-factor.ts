import type { Context } from 'koa';
import { outcome, type ProvenLogin, type StepOutcome } from '../interactions/interaction.ts';

/** The sign-in step (second-factor-step.ts) whose pages this state carries a sign-in through. */
export const SECOND_FACTOR_STEP = 'second-factor';

/** Every factor passed on a page of the second-factor step: the sign-in goes on with the steps after it. */
export function secondFactorPassed(login: ProvenLogin): StepOutcome {
  return outcome.login(login, SECOND_FACTOR_STEP);
}

/** A sign-in whose first factor passed, waiting for the second (or for a first one to be enrolled). */
export interface PendingSecondFactor {
  uid: string;
  accountId: string;
  amr: string[];
  /** No factor yet, and this sign-in requires one: enroll first. */
  enroll: boolean;
  /** The request demands the MFA level: a remembered device does not skip the factor. */
  demanded: boolean;
  /** Epoch ms after which the state is void. */
  expiresAt: number;
}

const TTL_MS = 15 * 60 * 1000;

/**
 * Carries the passed first factor to the factor step. Signed with the cookie keys, HttpOnly, and
 * scoped to the one interaction's path; the value names the interaction too, so it is honoured
 * only there, in this browser (oidc-provider binds the interaction to it), for 15 minutes.
 */
export class PendingSecondFactorCookie {
  private readonly name: string;

  constructor(private readonly secure: boolean) {
    this.name = secure ? '__Secure-umbral.mfa' : 'umbral.mfa';
  }

  private options(uid: string, maxAge: number) {
    return {
      signed: true,
      httpOnly: true,
      sameSite: 'lax' as const,
      secure: this.secure,
      path: `/interaction/${uid}`,
      maxAge,
      overwrite: true,
    };
  }

  set(ctx: Context, state: Omit<PendingSecondFactor, 'expiresAt'>): void {
    const value: PendingSecondFactor = { ...state, expiresAt: Date.now() + TTL_MS };
    ctx.cookies.set(
      this.name,
      Buffer.from(JSON.stringify(value)).toString('base64url'),
      this.options(state.uid, TTL_MS),
    );
  }

  get(ctx: Context, uid: string): PendingSecondFactor | undefined {
    const raw = ctx.cookies.get(this.name, { signed: true });
    if (!raw) return undefined;
    try {
      const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<PendingSecondFactor>;
      if (value.uid !== uid || typeof value.accountId !== 'string' || !Array.isArray(value.amr)) return undefined;
      if (typeof value.expiresAt !== 'number' || value.expiresAt < Date.now()) return undefined;
      return {
        uid,
        accountId: value.accountId,
        amr: value.amr.filter((m): m is string => typeof m === 'string'),
        enroll: value.enroll === true,
        demanded: value.demanded === true,
        expiresAt: value.expiresAt,
      };
    } catch {
      return undefined;
    }
  }

  clear(ctx: Context, uid: string): void {
    ctx.cookies.set(this.name, '', this.options(uid, 0));
  }
}
