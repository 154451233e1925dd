/**
 * A person's display name (the `name` claim), as sign-up, federated sign-up and the account
 * page take it: required, and at most MAX_NAME_LENGTH characters once its spacing is tidied.
 */

/** In characters as people count them (code points, so an emoji is one). */
export const MAX_NAME_LENGTH = 200;

export type NameProblem = 'name_required' | 'name_too_long';

/** Trimmed, with every run of whitespace made one space. */
export function normalizeName(input: string): string {
  return input.trim().replace(/\s+/g, ' ');
}

/** Why a normalized name is refused, if it is; the page's message is `signup.error.<problem>` ({max}). */
export function nameProblem(name: string): NameProblem | undefined {
  if (!name) return 'name_required';
  if ([...name].length > MAX_NAME_LENGTH) return 'name_too_long';
  return undefined;
}
