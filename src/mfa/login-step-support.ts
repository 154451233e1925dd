import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../config/config.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { InteractionDetails } from '../interactions/interactions-router.ts';
import type { FirstFactor } from '../interactions/login-completion.ts';
import type { Logger } from '../logging/logger.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import type { Mfa } from './mfa.ts';
import type { SecondFactorGate } from './second-factor-gate.ts';

/** What the login's MFA steps need from the interaction machinery. */
export interface LoginStepDependencies {
  config: Config;
  provider: Provider;
  pages: PageRenderer;
  throttle: LoginThrottle;
  logger: Logger;
  mfa: Mfa;
  gate: SecondFactorGate;
  completion: {
    complete(ctx: Context, details: InteractionDetails, first: FirstFactor): Promise<void>;
    /** The sign-in itself, once every factor has passed. */
    signIn(ctx: Context, details: InteractionDetails, factors: FirstFactor): Promise<void>;
  };
}

export type LoadInteraction = (ctx: Context) => Promise<InteractionDetails>;

/** Factor checks share the password throttle's counters and delays, under an identifier of their own. */
export function throttleIdentifier(accountId: string): string {
  return `mfa:${accountId}`;
}

export function seeOther(ctx: Context, location: string): void {
  ctx.redirect(location);
  ctx.status = 303;
}

/** The signed cookie holding the id of this interaction's WebAuthn challenge. */
export class WebauthnChallengeCookie {
  private readonly name: string;

  constructor(private readonly secure: boolean) {
    this.name = secure ? '__Secure-umbral.webauthn' : 'umbral.webauthn';
  }

  set(ctx: Context, path: string, challengeId: string): void {
    ctx.cookies.set(this.name, challengeId, {
      signed: true,
      httpOnly: true,
      sameSite: 'strict',
      secure: this.secure,
      path,
      maxAge: 5 * 60 * 1000,
      overwrite: true,
    });
  }

  take(ctx: Context, path: string): string {
    const id = ctx.cookies.get(this.name, { signed: true }) ?? '';
    ctx.cookies.set(this.name, '', {
      signed: true,
      httpOnly: true,
      sameSite: 'strict',
      secure: this.secure,
      path,
      maxAge: 0,
      overwrite: true,
    });
    return id;
  }
}

/** JSON for the WebAuthn script: never cached, never framed. */
export function sendJson(ctx: Context, body: unknown): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/json';
  ctx.body = body;
}
