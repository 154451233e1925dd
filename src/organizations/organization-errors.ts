/**
 * A value an operator or admin gave that the organizations model refuses; nothing was changed.
 * `reason`, when set, is a code a page translates (the company console); the message is the
 * English one, for the CLI.
 */
export class OrganizationInputError extends Error {
  constructor(
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'OrganizationInputError';
  }
}

/**
 * A tax id its country refuses. `reason` is a code (src/organizations/tax-ids.ts) that pages
 * translate with src/organizations/company-messages.ts; the message is the English one, for the CLI.
 */
export class TaxIdError extends OrganizationInputError {
  constructor(
    readonly country: string,
    override readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'TaxIdError';
  }
}

/** A postal code its country refuses (`reason`: empty or format); the message is the English one. */
export class PostalCodeError extends OrganizationInputError {
  constructor(
    readonly country: string | null,
    override readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'PostalCodeError';
  }
}

/**
 * One tax id, one company: this one is registered to another organization. Its id lets a page
 * tell that organization's admins someone asked; what a page shows must not reveal it.
 */
export class TaxIdTakenError extends OrganizationInputError {
  constructor(
    readonly country: string,
    readonly taxId: string,
    readonly organizationId: string,
    message: string,
  ) {
    super(message);
    this.name = 'TaxIdTakenError';
  }
}
