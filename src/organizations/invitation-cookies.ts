import type { Context } from 'koa';

/** How the person chose to answer the invitation on its page. */
export const INVITATION_METHODS = ['signup', 'signin', 'google', 'microsoft'] as const;
export type InvitationMethod = (typeof INVITATION_METHODS)[number];

export function isInvitationMethod(value: unknown): value is InvitationMethod {
  return (INVITATION_METHODS as readonly unknown[]).includes(value);
}

/** The invitation a sign-in carries: the link's token (never in a URL) and the chosen way in. */
export interface CarriedInvitation {
  token: string;
  method: InvitationMethod;
}

/** What the landing after the sign-in shows: the person joined, or why the invitation could not be used. */
export const LANDING_OUTCOMES = ['joined', 'expired', 'revoked', 'accepted', 'unavailable', 'unknown'] as const;
export type LandingOutcome = (typeof LANDING_OUTCOMES)[number];

export interface Landing {
  userId: string;
  organizationId: string | undefined;
  outcome: LandingOutcome;
}

/** Where the sign-in started from an invitation page returns (invitation-router.ts). */
export const INVITATION_LANDING_PATH = '/invitations/landing';

/** The start cookie waits for the first page of the sign-in it starts: one redirect through /auth. */
const START_SECONDS = 10 * 60;
/** As long as an interaction lives (oidc-provider's Interaction TTL). */
const BOUND_SECONDS = 60 * 60;
const LANDING_SECONDS = 10 * 60;

/**
 * The invitation on its way through a sign-in, in signed, HttpOnly cookies (the token is as
 * secret as the emailed link, so it never travels in a URL):
 * - the start cookie (path /interaction), set by the invitation page's buttons, is claimed by the
 *   first page of the next interaction, which moves it into
 * - the bound cookie (path /interaction/<uid>), seen by that interaction only, until the
 *   invitation step has accepted it (invitation-step.ts);
 * - the landing cookie (path /invitations/landing) tells the landing who joined what.
 */
export class InvitationCookies {
  private readonly startName: string;
  private readonly boundName: string;
  private readonly landingName: string;

  constructor(private readonly secure: boolean) {
    // __Host- would need Path=/: __Secure- still refuses a cookie set over plain http.
    const prefix = secure ? '__Secure-' : '';
    this.startName = `${prefix}umbral.invitation-start`;
    this.boundName = `${prefix}umbral.invitation`;
    this.landingName = `${prefix}umbral.invitation-landing`;
  }

  /** The invitation page's button: the next interaction of this browser carries the invitation. */
  start(ctx: Context, carried: CarriedInvitation): void {
    this.set(ctx, this.startName, '/interaction', encode(carried), START_SECONDS);
  }

  /**
   * The invitation this interaction carries. On the interaction's first page the start cookie is
   * bound to it (`fresh`: the chosen way in is taken now); afterwards only the bound cookie counts.
   */
  claim(ctx: Context, uid: string): { carried: CarriedInvitation; fresh: boolean } | undefined {
    const bound = this.bound(ctx, uid);
    if (bound) return { carried: bound, fresh: false };
    const started = decode(ctx.cookies.get(this.startName, { signed: true }));
    if (!started) return undefined;
    this.set(ctx, this.startName, '/interaction', '', 0);
    this.set(ctx, this.boundName, `/interaction/${uid}`, encode({ ...started, uid }), BOUND_SECONDS);
    return { carried: started, fresh: true };
  }

  /** The invitation bound to this interaction, if any. */
  bound(ctx: Context, uid: string): CarriedInvitation | undefined {
    const carried = decode(ctx.cookies.get(this.boundName, { signed: true }));
    return carried && carried.uid === uid ? { token: carried.token, method: carried.method } : undefined;
  }

  /** Done with (accepted, or found unusable): the interaction carries it no further. */
  drop(ctx: Context, uid: string): void {
    this.set(ctx, this.boundName, `/interaction/${uid}`, '', 0);
  }

  land(ctx: Context, landing: Landing): void {
    this.set(ctx, this.landingName, INVITATION_LANDING_PATH, base64(landing), LANDING_SECONDS);
  }

  /** The landing this browser was promised, read once. */
  takeLanding(ctx: Context): Landing | undefined {
    const raw = ctx.cookies.get(this.landingName, { signed: true });
    this.set(ctx, this.landingName, INVITATION_LANDING_PATH, '', 0);
    if (!raw) return undefined;
    try {
      const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Landing>;
      if (typeof parsed.userId !== 'string' || !(LANDING_OUTCOMES as readonly unknown[]).includes(parsed.outcome))
        return undefined;
      return {
        userId: parsed.userId,
        organizationId: typeof parsed.organizationId === 'string' ? parsed.organizationId : undefined,
        outcome: parsed.outcome as LandingOutcome,
      };
    } catch {
      return undefined;
    }
  }

  private set(ctx: Context, name: string, path: string, value: string, maxAgeSeconds: number): void {
    ctx.cookies.set(name, value || null, {
      signed: true,
      httpOnly: true,
      secure: this.secure,
      sameSite: 'lax',
      path,
      maxAge: maxAgeSeconds * 1000,
      overwrite: true,
    });
  }
}

type Encoded = CarriedInvitation & { uid?: string };

function base64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function encode(value: Encoded): string {
  return base64(value);
}

function decode(raw: string | undefined): Encoded | undefined {
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Encoded>;
    if (typeof parsed.token !== 'string' || !isInvitationMethod(parsed.method)) return undefined;
    return {
      token: parsed.token,
      method: parsed.method,
      ...(typeof parsed.uid === 'string' ? { uid: parsed.uid } : {}),
    };
  } catch {
    return undefined;
  }
}
