import type Provider from 'oidc-provider';
import type { SessionTerminator } from './session-terminator.ts';

/**
 * One active session per user, where the operator asks for it: everywhere (SINGLE_SESSION=true)
 * or for the portals registered with `--single-session`. A new sign-in ends the person's other
 * sessions (their portals hear it by back-channel logout); the browser re-authenticating keeps its own.
 */
export class SingleSessionPolicy {
  constructor(private readonly deps: { provider: Provider; terminator: SessionTerminator; everywhere: boolean }) {}

  async appliesTo(clientId: string): Promise<boolean> {
    if (this.deps.everywhere) return true;
    const client = await this.deps.provider.Client.find(clientId);
    return client?.['single_session'] === true;
  }

  /** Called once the sign-in is complete (every factor passed), before the new session is written. */
  async enforce(input: {
    accountId: string;
    clientId: string;
    currentSession: { uid: string; accountId?: string | undefined } | undefined;
  }): Promise<number> {
    if (!(await this.appliesTo(input.clientId))) return 0;
    const keep = input.currentSession?.accountId === input.accountId ? input.currentSession.uid : undefined;
    return this.deps.terminator.endOthers(input.accountId, keep, 'signed_in_elsewhere');
  }
}
