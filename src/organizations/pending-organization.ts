import type { Context } from 'koa';
import { isOrganizationAnswer, type OrganizationAnswer } from './organization-choice.ts';

/** A sign-in whose factors passed, paused by the organization step (the picker, or its second factor). */
export interface PendingOrganization {
  uid: string;
  accountId: string;
  amr: string[];
  acr?: string | undefined;
  /** What the person chose already: the organization step's second pass (after the factor) keeps it. */
  chosen?: OrganizationAnswer | undefined;
  /** Epoch ms after which the state is void. */
  expiresAt: number;
}

const TTL_MS = 15 * 60 * 1000;

/**
 * Carries the passed sign-in to the picker and through the organization's second factor. Signed
 * with the cookie keys, HttpOnly, scoped to the one interaction's path and naming it, so it is
 * honoured only there, in this browser, for 15 minutes (as pending-second-factor.ts).
 */
export class PendingOrganizationCookie {
  private readonly name: string;

  constructor(private readonly secure: boolean) {
    this.name = secure ? '__Secure-umbral.org' : 'umbral.org';
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

  set(ctx: Context, state: Omit<PendingOrganization, 'expiresAt'>): void {
    const value: PendingOrganization = { ...state, expiresAt: Date.now() + TTL_MS };
    ctx.cookies.set(
      this.name,
      Buffer.from(JSON.stringify(value)).toString('base64url'),
      this.options(state.uid, TTL_MS),
    );
  }

  get(ctx: Context, uid: string): PendingOrganization | undefined {
    const raw = ctx.cookies.get(this.name, { signed: true });
    if (!raw) return undefined;
    try {
      const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<PendingOrganization>;
      if (value.uid !== uid || typeof value.accountId !== 'string' || !Array.isArray(value.amr)) return undefined;
      if (typeof value.expiresAt !== 'number' || value.expiresAt < Date.now()) return undefined;
      return {
        uid,
        accountId: value.accountId,
        amr: value.amr.filter((m): m is string => typeof m === 'string'),
        ...(typeof value.acr === 'string' ? { acr: value.acr } : {}),
        ...(isOrganizationAnswer(value.chosen)
          ? { chosen: 'id' in value.chosen ? { id: value.chosen.id } : { none: true as const } }
          : {}),
        expiresAt: value.expiresAt,
      };
    } catch {
      return undefined;
    }
  }

  clear(ctx: Context, uid: string): void {
    if (ctx.cookies.get(this.name, { signed: true })) ctx.cookies.set(this.name, '', this.options(uid, 0));
  }
}
