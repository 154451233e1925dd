import { OrganizationInputError, PostalCodeError, TaxIdError, TaxIdTakenError } from './organization-errors.ts';

/**
 * A change to an organization the administration service refuses (nothing changed), for every
 * caller alike: `field` names the input at fault as the Admin API spells it (`ends_at`,
 * `admins`, `seat_limit`…), `reason` is a stable code, `conflict` says whether the value is
 * fine but clashes with the current state (a slug taken, no free seat). The CLI shows the
 * message; the Admin API a problem with the field's pointer.
 */
export class OrganizationRefusal extends OrganizationInputError {
  constructor(
    message: string,
    readonly field: string,
    override readonly reason: string,
    readonly conflict = false,
  ) {
    super(message, reason);
    this.name = 'OrganizationRefusal';
  }
}

/** Runs a model check; its refusal (when it names no field itself) is tied to `field`. */
export function refusedAs<T>(field: string, reason: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw asRefusal(error, field, reason);
  }
}

/** The same, for the repositories' own refusals (a tax id or postal code, a slug taken in a race). */
export async function refusingAs<T>(field: string, reason: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asRefusal(error, field, reason);
  }
}

function asRefusal(error: unknown, field: string, reason: string): unknown {
  if (!(error instanceof OrganizationInputError) || error instanceof OrganizationRefusal) return error;
  if (error instanceof TaxIdTakenError) return new OrganizationRefusal(error.message, 'tax_id', 'tax_id_taken', true);
  if (error instanceof TaxIdError) return new OrganizationRefusal(error.message, 'tax_id', error.reason);
  if (error instanceof PostalCodeError) return new OrganizationRefusal(error.message, 'postal_code', error.reason);
  if (/already exists/.test(error.message)) return new OrganizationRefusal(error.message, 'slug', 'slug_taken', true);
  if (/already bound/.test(error.message)) {
    const at = /Microsoft/.test(error.message) ? 'microsoft_tenants' : 'google_domains';
    return new OrganizationRefusal(error.message, at, 'already_bound', true);
  }
  return new OrganizationRefusal(error.message, field, error.reason ?? reason);
}
