import { DomainRouteInputError, DomainRoutes, normalizeDomain } from '../federation/domain-routes.ts';
import { isDomainName, isProviderName } from '../federation/federation-settings.ts';
import { withCliContext } from './cli-context.ts';
import { CliInputError, CliUsageError, rejectingAsInput } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';
import { recordChangeOf } from './operator-audit.ts';
import { printJson, printNote } from './print.ts';

export const DOMAIN_ADD_OPTIONS = {
  domain: { type: 'string', required: true },
  provider: { type: 'string', required: true },
} as const;

export const DOMAIN_REMOVE_OPTIONS = { domain: { type: 'string', required: true } } as const;

/** `umbral domains add|list|remove …`: email domains whose people sign in at Google or Microsoft. */
export async function runDomainsCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add':
      return addDomain(rest, env, io);
    case 'list':
      return listDomains(rest, env, io);
    case 'remove':
      return removeDomain(rest, env, io);
    case undefined:
      throw new CliUsageError('"domains" needs a subcommand: add, list or remove');
    default:
      throw new CliUsageError(`unknown command "domains ${action}"`);
  }
}

function checkedDomain(value: string): string {
  const domain = normalizeDomain(value);
  if (!isDomainName(domain)) throw new CliInputError(`"${value}" is not a domain name (e.g. acme.com)`);
  return domain;
}

async function addDomain(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('domains add', args, DOMAIN_ADD_OPTIONS);
  // Checked before the database is opened: a typo costs nothing and changes nothing.
  const domain = checkedDomain(options.domain);
  if (!isProviderName(options.provider))
    throw new CliInputError(`--provider must be google or microsoft, not "${options.provider}"`);
  const provider = options.provider;
  await withCliContext(env, async (context) => {
    const route = await rejectingAsInput(DomainRouteInputError, () =>
      new DomainRoutes(context.storage.db).add(domain, provider),
    );
    await recordChangeOf(
      context,
      env,
      io,
      { event: 'operator.domain_added', command: 'domains add', domain, provider },
      'domain route added',
    );
    if (!context.config.federation[provider]) {
      printNote(
        io,
        `note: ${provider} is not configured on this environment (${provider === 'google' ? 'GOOGLE' : 'MICROSOFT'}_CLIENT_ID); until it is, ${domain} signs in with a password as before`,
      );
    }
    printJson(io, route);
  });
}

async function listDomains(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  parseOptions('domains list', args, {});
  await withCliContext(env, async (context) => printJson(io, await new DomainRoutes(context.storage.db).list()));
}

async function removeDomain(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('domains remove', args, DOMAIN_REMOVE_OPTIONS);
  const domain = checkedDomain(options.domain);
  await withCliContext(env, async (context) => {
    await rejectingAsInput(DomainRouteInputError, () => new DomainRoutes(context.storage.db).remove(domain));
    await recordChangeOf(
      context,
      env,
      io,
      { event: 'operator.domain_removed', command: 'domains remove', domain },
      'domain route removed',
    );
    printJson(io, { removed: domain });
  });
}
