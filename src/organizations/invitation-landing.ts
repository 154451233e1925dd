import type Provider from 'oidc-provider';
import type { OrganizationRow } from '../storage/schema.ts';
import type { Invitation } from './invitations.ts';
import { organizationStatus } from './organization-status.ts';

/** Why a link cannot be used: each has its own page (invitation-invalid.ejs). */
export type InvitationProblem = 'expired' | 'revoked' | 'accepted' | 'unavailable' | 'unknown';

/**
 * Whether this invitation can still be accepted. A suspended or ended company takes no one in;
 * a scheduled one does (its members get tokens for it once it is active).
 */
export function invitationProblem(invitation: Invitation | undefined, now: Date): InvitationProblem | undefined {
  if (!invitation) return 'unknown';
  if (invitation.state !== 'pending') return invitation.state;
  const status = organizationStatus(invitation.organization, now);
  return status === 'suspended' || status === 'ended' ? 'unavailable' : undefined;
}

/** Addresses compare as the users table does (lower(email)). */
export function sameEmail(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Where a member enters the organization's home portal through a fresh authorization of the
 * portal's own (its state, its PKCE): the portal's `initiate_login_uri` with `iss` and
 * `login_hint` (OpenID Connect Core §4, third-party initiated login); without one, the origin of
 * its first redirect URI, whose home page starts its sign-in. Undefined without a home portal
 * (or when it is gone): the caller sends the person to the account page.
 */
export async function homePortalUrl(
  provider: Pick<Provider, 'Client'>,
  issuer: string,
  organization: Pick<OrganizationRow, 'home_client_id'>,
  loginHint?: string,
): Promise<string | undefined> {
  const client = await homePortal(provider, organization);
  if (!client) return undefined;
  const initiate = webUrl(client.metadata()['initiate_login_uri']);
  if (initiate) {
    initiate.searchParams.set('iss', issuer);
    if (loginHint) initiate.searchParams.set('login_hint', loginHint);
    return initiate.href;
  }
  const first = webUrl(client.redirectUris?.[0]);
  return first ? `${first.origin}/` : undefined;
}

/** The home portal's name, as its sign-in pages show it. */
export async function homePortalName(
  provider: Pick<Provider, 'Client'>,
  organization: Pick<OrganizationRow, 'home_client_id'>,
): Promise<string | undefined> {
  return (await homePortal(provider, organization))?.clientName ?? undefined;
}

async function homePortal(provider: Pick<Provider, 'Client'>, organization: Pick<OrganizationRow, 'home_client_id'>) {
  if (!organization.home_client_id) return undefined;
  // A client whose stored metadata no longer validates reads as none: the person lands on the account page.
  return provider.Client.find(organization.home_client_id).catch(() => undefined);
}

/** Only http(s) addresses are sent to. */
function webUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  const url = URL.parse(value);
  return url && (url.protocol === 'https:' || url.protocol === 'http:') ? url : undefined;
}
