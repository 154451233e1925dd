import type { Context } from 'koa';
import type { FirstFactor, InteractionDetails, SignInStep } from '../interactions/interaction.ts';
import type { SingleSessionPolicy } from './single-session-policy.ts';

/**
 * The sign-in's last step, once every factor and choice has passed: where one session per user
 * applies, the person's other sessions end before the new one is written.
 */
export class SingleSessionStep implements SignInStep {
  readonly name = 'single-session';

  constructor(private readonly policy: SingleSessionPolicy) {}

  async enter(_ctx: Context, details: InteractionDetails, login: FirstFactor): Promise<FirstFactor> {
    await this.policy.enforce({
      accountId: login.accountId,
      clientId: String(details.params['client_id']),
      currentSession: details.session,
    });
    return login;
  }
}
