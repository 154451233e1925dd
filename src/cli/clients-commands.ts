import type { ClientRegistration, GrantType } from '../clients/client-registration.ts';
import { clientAsJson } from '../clients/client-service.ts';
import { withCliContext } from './cli-context.ts';
import { CliUsageError } from './cli-errors.ts';
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
import { printJson } from './print.ts';

const DEFAULT_GRANT_TYPES: GrantType[] = ['authorization_code', 'refresh_token'];

export const CLIENT_ADD_OPTIONS = {
  'client-id': { type: 'string', required: true },
  'client-secret': { type: 'string' },
  public: { type: 'boolean' },
  ...CLIENT_SETTING_OPTIONS,
} as const;

export const CLIENT_REMOVE_OPTIONS = { 'client-id': { type: 'string', required: true } } as const;
export const CLIENT_SHOW_OPTIONS = CLIENT_REMOVE_OPTIONS;

/** `umbral clients add|list|show|update|rotate-secret|remove|registration-token …` */
export async function runClientsCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add':
      return addClient(rest, env, io);
    case 'list':
      return listClients(rest, env, io);
    case 'show':
      return showClient(rest, env, io);
    case 'update':
      return (await import('./clients-update-commands.ts')).updateClient(rest, env, io);
    case 'rotate-secret':
      return (await import('./clients-update-commands.ts')).rotateClientSecret(rest, env, io);
    case 'remove':
      return removeClient(rest, env, io);
    case 'registration-token':
      return (await import('./registration-token-command.ts')).createRegistrationToken(rest, env, io);
    case undefined:
      throw new CliUsageError(
        '"clients" needs a subcommand: add, list, show, update, rotate-secret, remove or registration-token',
      );
    default:
      throw new CliUsageError(`unknown command "clients ${action}"`);
  }
}

async function addClient(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('clients add', args, CLIENT_ADD_OPTIONS);
  // Checked before the database is opened: a typo costs nothing and changes nothing.
  const adminScopes = parseAdminScopesOption(options['admin-scopes']);
  const registration: ClientRegistration = {
    clientId: options['client-id'],
    clientSecret: options['client-secret'],
    name: options.name,
    redirectUris: options['redirect-uri'].map((uri) => absoluteUrl('--redirect-uri', uri)),
    postLogoutRedirectUris: options['post-logout-redirect-uri'].map((uri) =>
      absoluteUrl('--post-logout-redirect-uri', uri),
    ),
    backchannelLogoutUri: optionalUrl('--backchannel-logout-uri', options['backchannel-logout-uri']),
    // An automation client (--admin-scopes) is a machine: client_credentials alone unless told otherwise.
    grantTypes:
      options['grant-types'] === undefined
        ? adminScopes
          ? ['client_credentials']
          : DEFAULT_GRANT_TYPES
        : parseGrantTypes(options['grant-types']),
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
    initiateLoginUri: optionalUrl('--initiate-login-uri', options['initiate-login-uri']),
    logoUri: optionalUrl('--logo-uri', options['logo-uri']),
    clientUri: optionalUrl('--client-uri', options['client-uri']),
    tosUri: optionalUrl('--tos-uri', options['tos-uri']),
    policyUri: optionalUrl('--policy-uri', options['policy-uri']),
    brandColor: options['brand-color'],
    adminScopes,
  };
  await withClientService(env, io, async (service, change) => {
    const { client, secret } = await service.create(registration, { ...change, command: 'clients add' });
    // The only time the secret is shown: the database keeps a hash of it.
    printJson(io, { ...client.metadata, ...(secret ? { client_secret: secret } : {}) });
  });
}

async function listClients(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  parseOptions('clients list', args, {});
  await withCliContext(env, async (context) => {
    // list() never needs the provider; the registry only uses it to validate new clients.
    const { ClientRegistry } = await import('../clients/client-registry.ts');
    printJson(io, await new ClientRegistry(context.storage.db, undefined as never).list());
  });
}

async function showClient(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('clients show', args, CLIENT_SHOW_OPTIONS);
  await withClientService(
    env,
    io,
    async (service) => printJson(io, clientAsJson(await service.get(options['client-id']))),
    { provider: false },
  );
}

async function removeClient(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('clients remove', args, CLIENT_REMOVE_OPTIONS);
  const clientId = options['client-id'];
  await withClientService(
    env,
    io,
    async (service, change) => {
      await service.remove(clientId, { ...change, command: 'clients remove' });
      printJson(io, { removed: clientId });
    },
    { provider: false },
  );
}
