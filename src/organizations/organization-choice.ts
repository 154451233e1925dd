import type { OrganizationRow } from '../storage/schema.ts';
import type { OrganizationMode } from './client-organization.ts';
import type { MembershipRepository, UserMembership } from './memberships.ts';
import { isActive } from './organization-status.ts';
import type { Organization, OrganizationRepository } from './organizations.ts';
import { allowsSignIn, type SignInWay } from './sign-in-methods.ts';

/** What a sign-in answered for the organization: one of the person's, or none (an optional portal). */
export type OrganizationAnswer = { id: string } | { none: true };

export function isOrganizationAnswer(value: unknown): value is OrganizationAnswer {
  if (!value || typeof value !== 'object') return false;
  const answer = value as Record<string, unknown>;
  return typeof answer['id'] === 'string' || answer['none'] === true;
}

/** What one authorization request brings to the choice of its organization. */
export interface ChoiceRequest {
  accountId: string;
  mode: OrganizationMode;
  /** The portal's `organization=` (an id or a slug). */
  named?: string | undefined;
  /** What this sign-in answered already (the picker, or an earlier pass of the step). */
  chosen?: OrganizationAnswer | undefined;
  /** The organization the session's earlier authorization at this portal was for. */
  remembered?: string | undefined;
  /** How the person signed in, for the organization's policy; absent when it was judged already. */
  signIn?: (SignInWay & { mfa: boolean }) | undefined;
}

/** Why an organization's policy holds a sign-in back: a method it does not allow, or a missing second factor. */
export type PolicyProblem = 'method' | 'mfa';

export type Choice =
  /** This organization; `problem` when its policy still holds the sign-in back. */
  | { kind: 'organization'; organization: Organization; roles: string[]; problem?: PolicyProblem }
  /** An optional portal, and the person has no active organization: the sign-in goes on without. */
  | { kind: 'without' }
  /** Several active organizations and none named or remembered: the person picks. */
  | { kind: 'choose'; options: UserMembership[] }
  /**
   * No organization can be used: `named`, the one named is unknown or not theirs (one answer for
   * both, so a portal cannot learn who belongs where); `inactive`, theirs is not active (shown to
   * members only); `none`, a required portal and no membership at all.
   */
  | { kind: 'unavailable'; reason: 'named' | 'inactive' | 'none'; organization?: OrganizationRow };

/**
 * Decides which organization an authorization is for. The same rules serve the sign-in step
 * (a fresh sign-in, the picker) and oidc-provider's checks (a session already signed in): a name
 * the portal gave wins, then what the person chose, then the organization remembered for the
 * session at this portal, then the only active membership; several get the picker.
 */
export class OrganizationChooser {
  constructor(
    private readonly deps: {
      organizations: Pick<OrganizationRepository, 'find' | 'findById'>;
      memberships: Pick<MembershipRepository, 'membership' | 'ofUser'>;
      now: () => Date;
    },
  ) {}

  async decide(request: ChoiceRequest): Promise<Choice> {
    if (request.chosen) {
      if ('id' in request.chosen) return this.named(request, request.chosen.id);
      if (request.mode === 'optional') return { kind: 'without' };
    } else if (request.named !== undefined) {
      return this.named(request, request.named);
    } else if (request.remembered) {
      const remembered = await this.usable(request, request.remembered);
      if (remembered) return remembered;
    }
    const memberships = await this.deps.memberships.ofUser(request.accountId);
    const active = memberships.filter((m) => isActive(m.organization, this.deps.now()));
    if (active.length === 1) return this.of(request, active[0]!.organization.id, active[0]!.roles);
    if (active.length > 1) return { kind: 'choose', options: active };
    if (request.mode === 'optional') return { kind: 'without' };
    const inactive = memberships[0]?.organization;
    return inactive
      ? { kind: 'unavailable', reason: 'inactive', organization: inactive }
      : { kind: 'unavailable', reason: 'none' };
  }

  /** The person's active organizations, for the picker. */
  async options(accountId: string): Promise<UserMembership[]> {
    const now = this.deps.now();
    return (await this.deps.memberships.ofUser(accountId)).filter((m) => isActive(m.organization, now));
  }

  /** An organization named by id or slug (by the portal, or picked): theirs and active, or unavailable. */
  private async named(request: ChoiceRequest, reference: string): Promise<Choice> {
    const organization = await this.deps.organizations.find(reference);
    const membership = organization
      ? await this.deps.memberships.membership(organization.row.id, request.accountId)
      : undefined;
    if (!organization || !membership) return { kind: 'unavailable', reason: 'named' };
    if (!isActive(organization.row, this.deps.now())) {
      return { kind: 'unavailable', reason: 'inactive', organization: organization.row };
    }
    return this.judged(request, organization, membership.roles);
  }

  private async usable(request: ChoiceRequest, organizationId: string): Promise<Choice | undefined> {
    const organization = await this.deps.organizations.findById(organizationId);
    if (!organization || !isActive(organization.row, this.deps.now())) return undefined;
    const membership = await this.deps.memberships.membership(organizationId, request.accountId);
    return membership ? this.judged(request, organization, membership.roles) : undefined;
  }

  private async of(request: ChoiceRequest, organizationId: string, roles: string[]): Promise<Choice> {
    const organization = await this.deps.organizations.findById(organizationId);
    if (!organization) return { kind: 'unavailable', reason: 'named' };
    return this.judged(request, organization, roles);
  }

  private judged(request: ChoiceRequest, organization: Organization, roles: string[]): Choice {
    const problem = policyProblem(organization, request.signIn);
    return { kind: 'organization', organization, roles, ...(problem ? { problem } : {}) };
  }
}

/** What the organization's policy says of this sign-in: a method it does not allow comes first. */
export function policyProblem(
  organization: Organization,
  signIn: (SignInWay & { mfa: boolean }) | undefined,
): PolicyProblem | undefined {
  if (!signIn) return undefined;
  if (!allowsSignIn(organization.signInMethods, signIn)) return 'method';
  if (organization.row.require_mfa && !signIn.mfa) return 'mfa';
  return undefined;
}
