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

  /**
   * Called once the sign-in is complete (every factor passed), before the new session is written.
   * `required`: another policy asks for one session whatever the portal (an organization's
   * single_session, src/organizations), and the current session is kept.
   */
  async enforce(input: {
    accountId: string;
    clientId: string;
    currentSession: { uid: string; accountId?: string | undefined } | undefined;
    required?: boolean;
  }): Promise<number> {
    if (!input.required && !(await this.appliesTo(input.clientId))) return 0;
    const keep = input.currentSession?.accountId === input.accountId ? input.currentSession.uid : undefined;
    return this.deps.terminator.endOthers(input.accountId, keep, 'signed_in_elsewhere');
  }
}
