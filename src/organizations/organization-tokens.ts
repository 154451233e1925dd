import type { AccessToken, AccountClaims, ClientCredentials, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { clientOrganizationMode, ORGANIZATION_SCOPE } from './client-organization.ts';
import type { MembershipRepository } from './memberships.ts';
import type { OrganizationGrants } from './organization-grants.ts';
import { organizationStatus } from './organization-status.ts';
import type { Organization, OrganizationRepository } from './organizations.ts';
import type { RoleRepository } from './roles.ts';

/** The claims of the `organization` scope. */
export interface OrganizationClaims {
  org_id: string;
  org_slug: string;
  org_name: string;
  org_roles: string[];
  org_permissions: string[];
  /** ISO 3166-1 alpha-2, when the organization has a country. */
  org_country?: string;
  /** Compact, as stored (30500010912), when it has one: checked against org_country. */
  org_tax_id?: string;
}

/** Where an authorization's organization stands now. */
export type Standing =
  /** The authorization is for no organization. */
  | { kind: 'none' }
  | { kind: 'valid'; claims: OrganizationClaims }
  /** It was, and that organization no longer counts: ended, suspended, gone, or the person left. */
  | { kind: 'void'; reason: string };

export interface OrganizationTokensDependencies {
  grants: Pick<OrganizationGrants, 'find'>;
  organizations: Pick<OrganizationRepository, 'findById'>;
  memberships: Pick<MembershipRepository, 'membership'>;
  roles: Pick<RoleRepository, 'permissionsOf'>;
  now: () => Date;
}

/**
 * The organization in the tokens: the claims of ID tokens and userinfo (through findAccount,
 * fresh at every issuance: roles changed since show on the next refresh), what introspection
 * says of an access token (stored with the token at issuance, oidc-provider's extraTokenClaims),
 * and the refusal of every token once the organization no longer counts: the code exchange and
 * the refresh_token grant get invalid_grant, userinfo invalid_token, introspection `active: false`.
 */
export class OrganizationTokens {
  constructor(private readonly deps: OrganizationTokensDependencies) {}

  async standing(grantId: string | undefined, accountId: string): Promise<Standing> {
    if (!grantId) return { kind: 'none' };
    const grant = await this.deps.grants.find(grantId);
    if (!grant) return { kind: 'none' };
    if (grant.accountId !== accountId) return { kind: 'void', reason: 'belongs to another account' };
    if (grant.organizationId === null) return { kind: 'none' };
    const organization = await this.deps.organizations.findById(grant.organizationId);
    if (!organization) return { kind: 'void', reason: 'no longer exists' };
    const status = organizationStatus(organization.row, this.deps.now());
    if (status !== 'active') return { kind: 'void', reason: `is ${status}` };
    const membership = await this.deps.memberships.membership(organization.row.id, accountId);
    if (!membership) return { kind: 'void', reason: 'no longer counts the person as a member' };
    return { kind: 'valid', claims: await this.claimsOf(organization, membership.roles) };
  }

  async claimsOf(organization: Organization, roles: string[]): Promise<OrganizationClaims> {
    const { row } = organization;
    return {
      org_id: row.id,
      org_slug: row.slug,
      org_name: row.name,
      org_roles: [...roles].sort(),
      org_permissions: await this.deps.roles.permissionsOf(roles),
      // Absent rather than null when not set: a portal reads their presence.
      ...(row.country ? { org_country: row.country } : {}),
      ...(row.tax_id ? { org_tax_id: row.tax_id } : {}),
    };
  }

  /**
   * findAccount with the organization of the token being issued or used: its claims join the
   * account's (oidc-provider keeps them to the granted scopes), or the token is refused.
   */
  wrapFindAccount(findAccount: FindAccount): FindAccount {
    return async (ctx, sub, token) => {
      const account = await findAccount(ctx, sub, token);
      if (!account || !token) return account;
      const standing = await this.standing((token as { grantId?: string }).grantId, sub);
      const issuing = token.kind === 'AuthorizationCode' || token.kind === 'RefreshToken';
      if (standing.kind === 'void') {
        if (issuing) throw refused(`the organization of this authorization ${standing.reason}`);
        return undefined; // userinfo: invalid_token
      }
      if (standing.kind === 'none') {
        if (issuing && clientOrganizationMode(clientOf(ctx)) === 'required') {
          throw refused('this portal requires an organization, and none was chosen for this authorization');
        }
        return account;
      }
      return {
        ...account,
        async claims(use, scope, claims, rejected) {
          const own = await account.claims(use, scope, claims, rejected);
          return { ...own, ...standing.claims } as AccountClaims;
        },
      };
    };
  }

  /** oidc-provider's extraTokenClaims: an access token granted the scope keeps its organization's claims. */
  async extraTokenClaims(
    _ctx: KoaContextWithOIDC,
    token: AccessToken | ClientCredentials,
  ): Promise<Record<string, unknown> | undefined> {
    if (token.kind !== 'AccessToken' || !token.scopes.has(ORGANIZATION_SCOPE)) return undefined;
    const standing = await this.standing(token.grantId, token.accountId);
    return standing.kind === 'valid' ? { ...standing.claims } : undefined;
  }

  /** Introspection answers `active: false` for a token whose organization no longer counts. */
  async stillCounts(token: { grantId?: string | undefined; accountId?: string | undefined }): Promise<boolean> {
    if (!token.grantId || !token.accountId) return true;
    return (await this.standing(token.grantId, token.accountId)).kind !== 'void';
  }
}

/** invalid_grant, saying why: the portal needs a new authorization (which will say the rest to the person). */
function refused(description: string): InstanceType<typeof errors.InvalidGrant> {
  const error = new errors.InvalidGrant(description);
  error.error_description = description;
  return error;
}

function clientOf(ctx: KoaContextWithOIDC): Record<string, unknown> | undefined {
  return ctx.oidc?.client as unknown as Record<string, unknown> | undefined;
}
