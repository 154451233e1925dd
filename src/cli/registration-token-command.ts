import { issueInitialAccessToken } from '../clients/initial-access-tokens.ts';
import { withCliContext } from './cli-context.ts';
import { CliInputError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';
import { parseDuration } from './duration.ts';
import { printJson, printNote } from './print.ts';

export const REGISTRATION_TOKEN_OPTIONS = { 'expires-in': { type: 'string' } } as const;

/** A token unused for a month is forgotten rather than waiting: make a new one when it is needed. */
const MAX_EXPIRES_IN_SECONDS = 30 * 24 * 60 * 60;
const DEFAULT_EXPIRES_IN = '1d';

/** `umbral clients registration-token [--expires-in 1d]`: one initial access token for dynamic registration. */
export async function createRegistrationToken(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('clients registration-token', args, REGISTRATION_TOKEN_OPTIONS);
  // Checked before the database is opened: a typo costs nothing and changes nothing.
  const expiresIn = parseDuration('--expires-in', options['expires-in'] ?? DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN_SECONDS);
  await withCliContext(env, async (context) => {
    if (context.config.clientRegistration === 'open') {
      throw new CliInputError('CLIENT_REGISTRATION=open lets anyone register: it takes no initial access token');
    }
    const issued = await issueInitialAccessToken(await context.provider(), expiresIn);
    // The only time the token is shown: the database keeps a hash of it.
    printJson(io, {
      initial_access_token: issued.token,
      id: issued.id,
      expires_at: issued.expiresAt.toISOString(),
      single_use: true,
      registration_endpoint: `${context.config.issuer}/reg`,
    });
    if (context.config.clientRegistration === 'off') {
      printNote(io, 'note: the server takes this token once it runs with CLIENT_REGISTRATION=token (now off)');
    }
  });
}
