import type { Context } from 'koa';
import type { FirstFactor, InteractionDetails, SignInStep } from '../interactions/interaction.ts';
import type { AccountLockout } from './account-lockout.ts';

/**
 * A sign-in that passed every factor by another way than the password (passkey, Google,
 * Microsoft): the owner proved themselves, so the count of wrong passwords starts over
 * (account-lockout.ts). The password step resets it itself on the right password, so a password
 * sign-in (amr `pwd`) is not reset a second time here.
 */
export class LockoutResetStep implements SignInStep {
  readonly name = 'lockout-reset';

  constructor(private readonly lockout: Pick<AccountLockout, 'reset'>) {}

  async enter(_ctx: Context, _details: InteractionDetails, login: FirstFactor): Promise<FirstFactor> {
    if (!login.amr.includes('pwd')) await this.lockout.reset(login.accountId);
    return login;
  }
}
