import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { CLIENT_ADD_OPTIONS, CLIENT_REMOVE_OPTIONS } from '../../src/cli/clients-commands.ts';
import { CLIENT_ROTATE_OPTIONS, CLIENT_UPDATE_OPTIONS } from '../../src/cli/clients-update-commands.ts';
import { REGISTRATION_TOKEN_OPTIONS } from '../../src/cli/registration-token-command.ts';
import { USAGE } from '../../src/cli/usage.ts';
import { USER_SESSIONS_OPTIONS } from '../../src/cli/users-account-commands.ts';
import { USER_ADD_OPTIONS, USER_SEARCH_OPTIONS, USER_UPDATE_OPTIONS } from '../../src/cli/users-commands.ts';
import { ownStderr, runUmbral } from './umbral-cli.ts';

// None of these commands gets as far as the database: DATA_DIR points at a directory that must stay absent.
const dataDir = path.join(os.tmpdir(), `umbral-cli-usage-${process.pid}`);
const env = { DATA_DIR: dataDir };

test.after.always(() => fs.rmSync(dataDir, { recursive: true, force: true }));

test.serial('help, --help and no arguments print the usage', async (t) => {
  for (const args of [['help'], [], ['clients', 'add', '--help']]) {
    const result = await runUmbral(args, { env });
    t.is(result.code, 0, args.join(' '));
    t.is(result.stdout, USAGE);
    t.is(result.stderr, '');
  }
});

test.serial('the usage names every option of every command', (t) => {
  for (const options of [
    CLIENT_ADD_OPTIONS,
    CLIENT_REMOVE_OPTIONS,
    CLIENT_UPDATE_OPTIONS,
    CLIENT_ROTATE_OPTIONS,
    REGISTRATION_TOKEN_OPTIONS,
    USER_ADD_OPTIONS,
    USER_SEARCH_OPTIONS,
    USER_UPDATE_OPTIONS,
    USER_SESSIONS_OPTIONS,
  ]) {
    for (const name of Object.keys(options)) t.true(USAGE.includes(`--${name}`), `--${name}`);
  }
  for (const command of [
    'clients add',
    'clients list',
    'clients remove',
    'clients show',
    'clients update',
    'clients rotate-secret',
    'clients registration-token',
    'users add',
    'users list',
    'users search',
    'users show',
    'users update',
    'users disable',
    'users enable',
    'users remove',
    'users sessions',
    'users reset-mfa',
    'users send-password-reset',
    'keys rotate',
    'migrate',
  ]) {
    t.true(USAGE.includes(`umbral ${command}`), command);
  }
});

const usageErrors: Array<[string[], string]> = [
  [['frobnicate'], 'unknown command "frobnicate"'],
  [['clients', 'frobnicate'], 'unknown command "clients frobnicate"'],
  [['keys'], '"keys" needs a subcommand: rotate'],
  [['clients', 'add', '--redirect-uri', 'https://x.example/cb'], '"clients add" needs --client-id'],
  [['clients', 'add', '--client-id', 'x', '--colour', 'blue'], 'unknown option --colour for "clients add"'],
  [['clients', 'remove', '--client-id'], '--client-id needs a value (write --client-id=VALUE if it starts with -)'],
  [
    ['users', 'add', '--email', 'a@example.com', '--password', 'long enough', '--password-stdin'],
    'give either --password or --password-stdin, not both',
  ],
  [['migrate', 'now'], 'unexpected argument "now" for "migrate" (options start with --)'],
];

for (const [args, message] of usageErrors) {
  test.serial(`"umbral ${args.join(' ')}" is a usage error (exit 2)`, async (t) => {
    const result = await runUmbral(args, { env });
    t.is(result.code, 2);
    t.is(result.stdout, '');
    t.is(ownStderr(result), `umbral: ${message}\nRun "umbral help" for usage.\n`);
  });
}

test.serial('a bad environment is named, exits 1 and touches nothing', async (t) => {
  const result = await runUmbral(['clients', 'list'], { env: { ...env, PORT: 'abc' } });
  t.is(result.code, 1);
  t.is(result.stdout, '');
  t.is(result.stderr, 'umbral: invalid configuration: PORT: must be a whole number from 1 to 65535\n');
  t.false(fs.existsSync(dataDir));
});
