import type { OrganizationRow } from '../storage/schema.ts';

/**
 * Where a company's contract stands. Derived, never stored: the dates and the operator's hold
 * decide it at any instant, so a clock that moves (or a restart) never leaves a stale status.
 */
export type OrganizationStatus = 'scheduled' | 'active' | 'suspended' | 'ended';

export function organizationStatus(
  org: Pick<OrganizationRow, 'activates_at' | 'ends_at' | 'suspended_at'>,
  now: Date,
): OrganizationStatus {
  if (org.ends_at && new Date(org.ends_at) <= now) return 'ended';
  if (org.suspended_at) return 'suspended';
  if (new Date(org.activates_at) > now) return 'scheduled';
  return 'active';
}

/** Members obtain tokens for an organization only while it is active. */
export function isActive(org: Pick<OrganizationRow, 'activates_at' | 'ends_at' | 'suspended_at'>, now: Date): boolean {
  return organizationStatus(org, now) === 'active';
}
