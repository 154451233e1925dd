import {
  ClientInputError,
  type ClientRegistration,
  ClientRegistry,
  GRANT_TYPES,
  type GrantType,
} from '../clients/client-registry.ts';
import { isOrganizationMode, ORGANIZATION_MODES, type OrganizationMode } from '../organizations/client-organization.ts';
import { PKCE_MODES, type PkceMode } from '../provider/client-metadata.ts';
import { isSigningAlg, SIGNING_ALGS, type SigningAlg } from '../provider/signing-keys.ts';
import { withCliContext } from './cli-context.ts';
import { CliInputError, CliUsageError, rejectingAsInput } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { clientKeysFromOptions } from './client-keys-options.ts';
import { parseOptions } from './command-options.ts';
import { recordChangeOf } from './operator-audit.ts';
import { printJson } from './print.ts';

const DEFAULT_GRANT_TYPES: GrantType[] = ['authorization_code', 'refresh_token'];

export const CLIENT_ADD_OPTIONS = {
  'client-id': { type: 'string', required: true },
  'client-secret': { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  'backchannel-logout-uri': { type: 'string' },
  'grant-types': { type: 'string' },
  'first-party': { type: 'boolean' },
  'single-session': { type: 'boolean' },
  'require-mfa': { type: 'boolean' },
  public: { type: 'boolean' },
  name: { type: 'string' },
  'jwks-uri': { type: 'string' },
  'jwks-file': { type: 'string' },
  'id-token-signing-alg': { type: 'string' },
  'strict-id-token-claims': { type: 'boolean' },
  pkce: { type: 'string' },
  organization: { type: 'string' },
  'collect-company': { type: 'boolean' },
  'initiate-login-uri': { type: 'string' },
  'logo-uri': { type: 'string' },
  'client-uri': { type: 'string' },
  'tos-uri': { type: 'string' },
  'policy-uri': { type: 'string' },
  'brand-color': { type: 'string' },
} as const;

export const CLIENT_REMOVE_OPTIONS = { 'client-id': { type: 'string', required: true } } as const;

/** `umbral clients add|list|remove|registration-token …` */
export async function runClientsCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add':
      return addClient(rest, env, io);
    case 'list':
      return listClients(rest, env, io);
    case 'remove':
      return removeClient(rest, env, io);
    case 'registration-token':
      return (await import('./registration-token-command.ts')).createRegistrationToken(rest, env, io);
    case undefined:
      throw new CliUsageError('"clients" needs a subcommand: add, list, remove or registration-token');
    default:
      throw new CliUsageError(`unknown command "clients ${action}"`);
  }
}

async function addClient(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('clients add', args, CLIENT_ADD_OPTIONS);
  // Checked before the database is opened: a typo costs nothing and changes nothing.
  const registration: ClientRegistration = {
    clientId: options['client-id'],
    clientSecret: options['client-secret'],
    name: options.name,
    redirectUris: options['redirect-uri'].map((uri) => absoluteUrl('--redirect-uri', uri)),
    postLogoutRedirectUris: options['post-logout-redirect-uri'].map((uri) =>
      absoluteUrl('--post-logout-redirect-uri', uri),
    ),
    backchannelLogoutUri:
      options['backchannel-logout-uri'] === undefined
        ? undefined
        : absoluteUrl('--backchannel-logout-uri', options['backchannel-logout-uri']),
    grantTypes: options['grant-types'] === undefined ? DEFAULT_GRANT_TYPES : parseGrantTypes(options['grant-types']),
    firstParty: options['first-party'],
    singleSession: options['single-session'],
    requireMfa: options['require-mfa'],
    public: options.public,
    keys: clientKeysFromOptions(options),
    idTokenSigningAlg: parseSigningAlg(options['id-token-signing-alg']),
    strictIdTokenClaims: options['strict-id-token-claims'],
    pkce: parsePkceMode(options.pkce),
    organization: parseOrganizationMode(options.organization),
    collectCompany: options['collect-company'],
    initiateLoginUri:
      options['initiate-login-uri'] === undefined
        ? undefined
        : absoluteUrl('--initiate-login-uri', options['initiate-login-uri']),
    logoUri: optionalUrl('--logo-uri', options['logo-uri']),
    clientUri: optionalUrl('--client-uri', options['client-uri']),
    tosUri: optionalUrl('--tos-uri', options['tos-uri']),
    policyUri: optionalUrl('--policy-uri', options['policy-uri']),
    brandColor: options['brand-color'],
  };
  await withCliContext(env, async (context) => {
    const registry = new ClientRegistry(context.storage.db, await context.provider());
    const client = await rejectingAsInput(ClientInputError, () => registry.register(registration));
    await recordChangeOf(
      context,
      env,
      io,
      { event: 'operator.client_added', command: 'clients add', clientId: registration.clientId },
      'client added',
    );
    // The only time the secret is shown: the database keeps a hash of it.
    printJson(io, client);
  });
}

async function listClients(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  parseOptions('clients list', args, {});
  await withCliContext(env, async (context) => {
    // list() never needs the provider; the registry only uses it to validate new clients.
    const registry = new ClientRegistry(context.storage.db, undefined as never);
    printJson(io, await registry.list());
  });
}

async function removeClient(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('clients remove', args, CLIENT_REMOVE_OPTIONS);
  const clientId = options['client-id'];
  await withCliContext(env, async (context) => {
    const registry = new ClientRegistry(context.storage.db, undefined as never);
    if (!(await registry.remove(clientId))) throw new CliInputError(`no client with id ${clientId}`);
    await recordChangeOf(
      context,
      env,
      io,
      { event: 'operator.client_removed', command: 'clients remove', clientId },
      'client removed',
    );
    printJson(io, { removed: clientId });
  });
}

function parseGrantTypes(value: string): GrantType[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw new CliInputError('--grant-types needs at least one grant type');
  for (const name of names) {
    if (!(GRANT_TYPES as readonly string[]).includes(name)) {
      throw new CliInputError(`unknown grant type "${name}"; use ${GRANT_TYPES.join(', ')}`);
    }
  }
  return [...new Set(names)] as GrantType[];
}

function parseSigningAlg(value: string | undefined): SigningAlg | undefined {
  if (value === undefined || isSigningAlg(value)) return value;
  throw new CliInputError(`--id-token-signing-alg "${value}" is not offered; use ${SIGNING_ALGS.join(', ')}`);
}

function parsePkceMode(value: string | undefined): PkceMode | undefined {
  if (value === undefined || (PKCE_MODES as readonly string[]).includes(value)) return value as PkceMode | undefined;
  throw new CliInputError(`--pkce "${value}" is not a PKCE policy; use ${PKCE_MODES.join(' or ')}`);
}

function parseOrganizationMode(value: string | undefined): OrganizationMode | undefined {
  if (value === undefined || isOrganizationMode(value)) return value;
  throw new CliInputError(
    `--organization "${value}" is not an organization setting; use ${ORGANIZATION_MODES.join(' or ')} (or leave it out)`,
  );
}

/** Full syntax only; oidc-provider's client validation judges the rest (scheme, fragments…). */
function absoluteUrl(option: string, value: string): string {
  if (!URL.canParse(value)) throw new CliInputError(`${option} "${value}" is not an absolute URL`);
  return value;
}

function optionalUrl(option: string, value: string | undefined): string | undefined {
  return value === undefined ? undefined : absoluteUrl(option, value);
}
