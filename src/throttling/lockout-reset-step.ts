import type { Context } from 'koa';
import type { FirstFactor, InteractionDetails, SignInStep } from '../interactions/interaction.ts';
import type { AccountLockout } from './account-lockout.ts';

/**
 * A sign-in that passed every factor, by any method (passkey, Google, Microsoft, password): the
 * owner proved themselves, so the count of wrong passwords starts over (account-lockout.ts). The
 * password step also resets it on the right password; this step covers every other way in.
 */
export class LockoutResetStep implements SignInStep {
  readonly name = 'lockout-reset';

  constructor(private readonly lockout: Pick<AccountLockout, 'reset'>) {}

  async enter(_ctx: Context, _details: InteractionDetails, login: FirstFactor): Promise<FirstFactor> {
    await this.lockout.reset(login.accountId);
    return login;
  }
}
