/** A value an operator or admin gave that the organizations model refuses; nothing was changed. */
export class OrganizationInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrganizationInputError';
  }
}
