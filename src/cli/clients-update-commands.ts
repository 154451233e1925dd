import { DEFAULT_KEEP_OLD_SECONDS, MAX_KEEP_OLD_SECONDS } from '../clients/client-secret-rotation.ts';
import type { ClientChanges } from '../clients/client-service.ts';
import { clientAsJson } from '../clients/client-service.ts';
import { CliInputError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { clientKeysFromOptions } from './client-keys-options.ts';
import {
  absoluteUrl,
  CLIENT_SETTING_OPTIONS,
  optionalUrl,
  parseAdminScopesOption,
  parseGrantTypes,
  parseOrganizationMode,
  parsePkceMode,
  parseSigningAlg,
} from './client-options.ts';
import { withClientService } from './client-service-context.ts';
import { parseOptions } from './command-options.ts';
import { parseDuration } from './duration.ts';
import { printJson, printNote } from './print.ts';

export const CLIENT_UPDATE_OPTIONS = {
  'client-id': { type: 'string', required: true },
  ...CLIENT_SETTING_OPTIONS,
  clear: { type: 'string', multiple: true },
} as const;

export const CLIENT_ROTATE_OPTIONS = {
  'client-id': { type: 'string', required: true },
  'keep-old-for': { type: 'string' },
} as const;

/** What `--clear NAME` may name: optional settings it removes, and switches it turns off. */
const CLEARABLE: Record<string, keyof ClientChanges> = {
  'backchannel-logout-uri': 'backchannelLogoutUri',
  'post-logout-redirect-uri': 'postLogoutRedirectUris',
  'first-party': 'firstParty',
  'single-session': 'singleSession',
  'require-mfa': 'requireMfa',
  name: 'name',
  'id-token-signing-alg': 'idTokenSigningAlg',
  'strict-id-token-claims': 'strictIdTokenClaims',
  pkce: 'pkce',
  organization: 'organization',
  'collect-company': 'collectCompany',
  'initiate-login-uri': 'initiateLoginUri',
  'logo-uri': 'logoUri',
  'client-uri': 'clientUri',
  'tos-uri': 'tosUri',
  'policy-uri': 'policyUri',
  'brand-color': 'brandColor',
  'admin-scopes': 'adminScopes',
};

/** `umbral clients update --client-id ID [settings] [--clear NAME]…`: the settings given replace the stored ones. */
export async function updateClient(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('clients update', args, CLIENT_UPDATE_OPTIONS);
  const given = <T>(present: boolean, value: () => T): T | undefined => (present ? value() : undefined);
  const changes: ClientChanges = {
    name: options.name,
    redirectUris: given(options['redirect-uri'].length > 0, () =>
      options['redirect-uri'].map((uri) => absoluteUrl('--redirect-uri', uri)),
    ),
    postLogoutRedirectUris: given(options['post-logout-redirect-uri'].length > 0, () =>
      options['post-logout-redirect-uri'].map((uri) => absoluteUrl('--post-logout-redirect-uri', uri)),
    ),
    backchannelLogoutUri: optionalUrl('--backchannel-logout-uri', options['backchannel-logout-uri']),
    grantTypes: given(options['grant-types'] !== undefined, () => parseGrantTypes(options['grant-types']!)),
    firstParty: options['first-party'] || undefined,
    singleSession: options['single-session'] || undefined,
    requireMfa: options['require-mfa'] || undefined,
    keys: clientKeysFromOptions(options),
    idTokenSigningAlg: parseSigningAlg(options['id-token-signing-alg']),
    strictIdTokenClaims: options['strict-id-token-claims'] || undefined,
    pkce: parsePkceMode(options.pkce),
    organization: parseOrganizationMode(options.organization),
    collectCompany: options['collect-company'] || undefined,
    initiateLoginUri: optionalUrl('--initiate-login-uri', options['initiate-login-uri']),
    logoUri: optionalUrl('--logo-uri', options['logo-uri']),
    clientUri: optionalUrl('--client-uri', options['client-uri']),
    tosUri: optionalUrl('--tos-uri', options['tos-uri']),
    policyUri: optionalUrl('--policy-uri', options['policy-uri']),
    brandColor: options['brand-color'],
    adminScopes: parseAdminScopesOption(options['admin-scopes']),
  };
  for (const name of options.clear.flatMap((value) => value.split(',')).map((value) => value.trim())) {
    const key = Object.hasOwn(CLEARABLE, name) ? CLEARABLE[name] : undefined;
    if (!key)
      throw new CliInputError(
        `--clear ${name}: not a setting that can be cleared (${Object.keys(CLEARABLE).join(', ')})`,
      );
    if (changes[key] !== undefined) throw new CliInputError(`--clear ${name} and --${name} together: give one`);
    (changes as Record<string, unknown>)[key] = key === 'postLogoutRedirectUris' ? [] : null;
  }
  if (Object.values(changes).every((value) => value === undefined)) {
    throw new CliInputError('"clients update" needs at least one setting to change (see umbral help)');
  }
  await withClientService(env, io, async (service, change) => {
    const client = await service.update(options['client-id'], changes, { ...change, command: 'clients update' });
    printJson(io, clientAsJson(client));
  });
}

/** `umbral clients rotate-secret --client-id ID [--keep-old-for 7d]`: the new secret, printed once. */
export async function rotateClientSecret(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('clients rotate-secret', args, CLIENT_ROTATE_OPTIONS);
  const value = options['keep-old-for'];
  // 0: the old secret stops at once (a leaked one); otherwise 1 minute to 90 days.
  const keepOldForSeconds =
    value === undefined
      ? DEFAULT_KEEP_OLD_SECONDS
      : value === '0'
        ? 0
        : parseDuration('--keep-old-for', value, MAX_KEEP_OLD_SECONDS);
  await withClientService(
    env,
    io,
    async (service, change) => {
      const { client, secret } = await service.rotateSecret(
        options['client-id'],
        { keepOldForSeconds },
        { ...change, command: 'clients rotate-secret' },
      );
      printJson(io, {
        client_id: client.metadata['client_id'],
        client_secret: secret,
        secrets: clientAsJson(client)['secrets'],
      });
    },
    { provider: false },
  );
  printNote(
    io,
    keepOldForSeconds
      ? `The new secret is printed once. The old one keeps working for ${Math.round(keepOldForSeconds / 3600)} hours.`
      : 'The new secret is printed once. The old one stopped working now.',
  );
}
