import type { Context, Middleware } from 'koa';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import { seeOther } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { ACR_MULTI_FACTOR, type SecondFactorMethod, withSecondFactor } from '../mfa/authentication-level.ts';
import { SessionActivity } from '../sessions/session-activity.ts';
import type { Database, UserRow } from '../storage/schema.ts';
import { UserRepository } from '../users/users.ts';
import type { AccountSignIn } from './account-sign-in.ts';

/** Who is on the account page, and how they signed in (read from Umbral's own browser session). */
export interface SignedInAccount {
  user: UserRow;
  /** The browser session's uid: "this device" in the sessions list. */
  sessionUid: string;
  /** When the person last proved who they are (epoch seconds). */
  loginTs: number;
  amr: string[];
  acr?: string | undefined;
}

/** Re-authentication for sensitive changes (email, factors) is asked when the sign-in is older than this. */
export const RECENT_SIGN_IN_SECONDS = 5 * 60;

/**
 * Guards the account pages. The authority is Umbral's own browser session (the one every portal
 * shares); without one, or with one too old for the page, the browser goes through the login
 * (AccountSignIn) and comes back.
 */
export class AccountAccess {
  private readonly users: UserRepository;
  private readonly activity: SessionActivity;

  constructor(
    private readonly deps: { provider: Provider; db: Kysely<Database>; signIn: AccountSignIn; pages: PageRenderer },
  ) {
    this.users = new UserRepository(deps.db);
    this.activity = new SessionActivity(deps.db);
  }

  /** Sets ctx.state['account'] (SignedInAccount), or sends the browser to sign in first. */
  require(options: { recentSeconds?: number } = {}): Middleware {
    return async (ctx, next) => {
      const account = await this.current(ctx);
      if (!account) return this.sendToSignIn(ctx, false, undefined);
      if (options.recentSeconds !== undefined && Date.now() / 1000 - account.loginTs > options.recentSeconds) {
        return this.sendToSignIn(ctx, true, account.user.email);
      }
      ctx.state['account'] = account;
      await next();
    };
  }

  async current(ctx: Context): Promise<SignedInAccount | undefined> {
    const session = await this.deps.provider.Session.get(ctx);
    if (!session.accountId || !session.loginTs) return undefined;
    const user = await this.users.findById(session.accountId);
    if (!user || user.disabled) return undefined;
    await this.activity.record({
      sessionUid: session.uid,
      accountId: user.id,
      userAgent: ctx.get('user-agent') || undefined,
      ip: ctx.ip,
    });
    return { user, sessionUid: session.uid, loginTs: session.loginTs, amr: session.amr ?? [], acr: session.acr };
  }

  /**
   * A factor just enrolled on the account pages counts as this session's second factor: the person
   * signed in moments ago and has just proved the new factor, so the pages guarded by a second
   * factor need no second, unexplained sign-in right after the first factor is added.
   */
  async proveSecondFactor(ctx: Context, method: SecondFactorMethod): Promise<void> {
    const session = await this.deps.provider.Session.get(ctx);
    if (!session.accountId) return;
    session.amr = withSecondFactor(Array.isArray(session.amr) ? session.amr : ['pwd'], method);
    session.acr = ACR_MULTI_FACTOR;
    await session.persist();
  }

  /** GETs go through the login and come back; a form posted without the right sign-in goes back to its page. */
  private sendToSignIn(ctx: Context, reauth: boolean, loginHint: string | undefined): void {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      seeOther(ctx, ctx.path);
      return;
    }
    this.deps.signIn.start(ctx, {
      returnTo: ctx.originalUrl,
      reauth,
      loginHint,
      locale: this.deps.pages.localeOf(ctx),
    });
  }
}
