import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { UserRepository } from '../users/users.ts';
import {
  type InteractionDetails,
  type InteractionRoute,
  outcome,
  type SignInStep,
  type StepOutcome,
} from './interaction.ts';

interface MissingGrant {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

const DESCRIBED_SCOPES = ['openid', 'email', 'profile', 'phone', 'offline_access', 'organization'];

/** The host people know the portal by: its client_uri's, else its first redirect URI's. */
function portalDomain(clientUri: unknown, redirectUris: readonly string[] | undefined): string | undefined {
  const url = URL.parse(typeof clientUri === 'string' ? clientUri : (redirectUris?.[0] ?? ''));
  return url?.hostname || undefined;
}

/** Consent for third-party clients: shows what is asked, and grants exactly that. */
export class ConsentStep implements SignInStep {
  readonly name = 'consent';
  readonly routes: readonly InteractionRoute[];

  constructor(private readonly deps: { provider: Provider; users: Pick<UserRepository, 'findById'> }) {
    this.routes = [
      {
        method: 'post',
        path: '/consent',
        during: 'consent',
        handle: async (_ctx, details) => outcome.result(await this.grant(details), true),
      },
    ];
  }

  async resume(_ctx: unknown, details: InteractionDetails): Promise<StepOutcome | undefined> {
    if (details.prompt.name !== 'consent') return undefined;
    const missing = details.prompt.details as MissingGrant;
    const client = await this.deps.provider.Client.find(String(details.params['client_id']));
    const scopes = (missing.missingOIDCScope ?? []).filter((s) => DESCRIBED_SCOPES.includes(s));
    // Who is about to share, and with which site: the signed-in account and the portal's domain.
    const accountId = details.session?.accountId;
    const account = accountId ? await this.deps.users.findById(accountId) : undefined;
    return outcome.page('consent', {
      uid: details.uid,
      clientName: client?.clientName ?? client?.clientId,
      accountEmail: account?.email,
      portalDomain: portalDomain(client?.['clientUri'], client?.redirectUris),
      scopes,
      claims: (missing.missingOIDCClaims ?? []).filter((c) => c !== 'sub'),
    });
  }

  private async grant(details: InteractionDetails): Promise<InteractionResults> {
    const { provider } = this.deps;
    const missing = details.prompt.details as MissingGrant;
    const accountId = details.session?.accountId;
    if (!accountId) throw new Error('consent without a signed-in account');
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: String(details.params['client_id']) });
    if (!grant) throw new Error('grant disappeared during consent');
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return details.grantId ? { consent: {} } : { consent: { grantId } };
  }
}
