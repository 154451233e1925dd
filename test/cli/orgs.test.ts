import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { type Kysely, sql } from 'kysely';
import { ORG_ADD_OPTIONS, ORG_UPDATE_OPTIONS } from '../../src/cli/orgs-fields.ts';
import { ORG_INVITE_OPTIONS, ORG_MEMBER_OPTIONS, ORG_MEMBERS_OPTIONS } from '../../src/cli/orgs-members-commands.ts';
import { ROLE_ADD_OPTIONS, ROLE_REMOVE_OPTIONS } from '../../src/cli/roles-commands.ts';
import { USAGE } from '../../src/cli/usage.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { ContractScheduler } from '../../src/organizations/contract-scheduler.ts';
import { InvitationRepository } from '../../src/organizations/invitations.ts';
import { jsonArray } from '../../src/organizations/json-array.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { OrganizationMail } from '../../src/organizations/organization-mail.ts';
import { OrganizationSessions } from '../../src/organizations/organization-sessions.ts';
import type { Database } from '../../src/storage/schema.ts';
import { UserRepository } from '../../src/users/users.ts';
import { COMMAND_STORES, type TestStore } from '../support/stores.ts';
import { inStore, ownStderr, runUmbral, storesPerFile } from './umbral-cli.ts';

const ISSUER = 'http://localhost:4123';
const DAY = 24 * 3600_000;
const stores = storesPerFile(test);

const run = (store: TestStore, args: string[], env: Record<string, string> = {}) =>
  runUmbral(args, { env: { ...store.env, ISSUER, ...env } });

async function ok(t: ExecutionContext, store: TestStore, args: string[]) {
  const result = await run(store, args);
  t.is(result.code, 0, `${args.join(' ')}: ${ownStderr(result)}`);
  return result.stdout.startsWith('{') || result.stdout.startsWith('[') ? JSON.parse(result.stdout) : result.stdout;
}

/** Every table an orgs or roles command could touch, as text: a refusal must leave it identical. */
function snapshot(store: TestStore): Promise<string> {
  return inStore(store, async (db) => {
    const tables = [
      'organizations',
      'organization_invitations',
      'organization_memberships',
      'organization_upstream_bindings',
      'roles',
      'mail_queue',
      'oidc_models',
    ] as const;
    const all: Record<string, unknown> = {};
    for (const table of tables) {
      all[table] = (await sql`select * from ${sql.table(table)}`.execute(db)).rows
        .map((row) => JSON.stringify(row))
        .sort();
    }
    return JSON.stringify(all);
  });
}

/** A refusal: the exit code, nothing on stdout, the message on stderr, and no change in any table. */
async function refused(t: ExecutionContext, store: TestStore, args: string[], message: string | RegExp, code = 1) {
  const before = await snapshot(store);
  const result = await run(store, args);
  const label = args.join(' ');
  t.is(result.code, code, `${label}: ${result.stderr}`);
  t.is(result.stdout, '', label);
  const stderr = ownStderr(result);
  if (typeof message === 'string') t.true(stderr.includes(message), `${label}: ${stderr}`);
  else t.regex(stderr, message, label);
  t.is(await snapshot(store), before, `${label} changed nothing`);
}

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function organization(store: TestStore, slug: string) {
  return inStore(store, (db) => db.selectFrom('organizations').selectAll().where('slug', '=', slug).executeTakeFirst());
}

async function invitationsOf(store: TestStore, slug: string) {
  return inStore(store, (db) =>
    db
      .selectFrom('organization_invitations as i')
      .innerJoin('organizations as o', 'o.id', 'i.organization_id')
      .selectAll('i')
      .where('o.slug', '=', slug)
      .orderBy('i.email')
      .execute(),
  );
}

async function mailsTo(store: TestStore, to: string) {
  return inStore(store, (db) =>
    db.selectFrom('mail_queue').selectAll().where('to_address', '=', to).orderBy('created_at').execute(),
  );
}

async function addUser(store: TestStore, email: string, locale?: string) {
  return inStore(store, async (db) => {
    const user = await new UserRepository(db).create({ email, name: `Name of ${email}`, emailVerified: true });
    if (locale) await db.updateTable('users').set({ locale }).where('id', '=', user.id).execute();
    return user;
  });
}

async function join(store: TestStore, slug: string, userId: string, roles: string[]) {
  const org = (await organization(store, slug))!;
  await inStore(store, (db) =>
    new MembershipRepository(db).join({ organizationId: org.id, userId, roles, invitedBy: 'operator' }),
  );
}

async function addClient(store: TestStore, clientId: string, name: string) {
  await inStore(store, (db) =>
    db
      .insertInto('clients')
      .values({ client_id: clientId, metadata: JSON.stringify({ client_id: clientId, client_name: name }) })
      .onConflict((oc) => oc.column('client_id').doNothing())
      .execute(),
  );
}

/** The token of a mailed invitation link, from the queued mail's data. */
function tokenIn(mail: { data: unknown }): string {
  const url = mailData(mail)['invitationUrl']!;
  if (!url.startsWith(`${ISSUER}/invitations/`)) throw new Error(`not a link from ISSUER: ${url}`);
  return url.slice(`${ISSUER}/invitations/`.length);
}

const mailData = (mail: { data: unknown }) =>
  (typeof mail.data === 'string' ? JSON.parse(mail.data) : mail.data) as Record<string, string>;

test('the usage names every orgs and roles command and option', (t) => {
  for (const options of [
    ORG_ADD_OPTIONS,
    ORG_UPDATE_OPTIONS,
    ORG_INVITE_OPTIONS,
    ORG_MEMBER_OPTIONS,
    ORG_MEMBERS_OPTIONS,
    ROLE_ADD_OPTIONS,
    ROLE_REMOVE_OPTIONS,
  ]) {
    for (const name of Object.keys(options)) t.true(USAGE.includes(`--${name}`), `--${name}`);
  }
  for (const command of [
    'orgs add',
    'orgs list',
    'orgs show',
    'orgs update',
    'orgs suspend',
    'orgs resume',
    'orgs remove',
    'orgs invite',
    'orgs revoke-invitation',
    'orgs members',
    'orgs remove-member',
    'roles add',
    'roles list',
    'roles remove',
  ]) {
    t.true(USAGE.includes(`umbral ${command}`), command);
  }
});

for (const kind of COMMAND_STORES) {
  const store = () => stores.get(kind)!;

  test.serial(
    `[${kind}] orgs add: a scheduled company with every field; its admins wait for the activation`,
    async (t) => {
      await addClient(store(), 'benefits', 'Portal de Beneficios');
      const slug = unique('acme');
      const tenant = randomUUID();
      const added = await ok(t, store(), [
        'orgs',
        'add',
        '--name',
        '  Acme   S.A. ',
        '--slug',
        slug,
        '--country',
        'cl',
        '--tax-id',
        '76.086.428-5',
        '--activates-at',
        '2030-03-01T09:00:00-03:00',
        '--ends-at',
        '2031-03-01T09:00:00-03:00',
        '--admin',
        'ana@acme.example',
        '--admin',
        'ANA@acme.example',
        '--admin',
        'bruno@acme.example',
        '--seats',
        '10',
        '--home-client',
        'benefits',
        '--logo-uri',
        'https://acme.example/logo.svg',
        '--require-mfa',
        '--single-session',
        '--sign-in-method',
        'password',
        '--sign-in-method',
        'Microsoft',
        '--microsoft-tenant',
        tenant.toUpperCase(),
        '--google-domain',
        'Acme.example',
      ]);
      t.deepEqual(Object.keys(added).sort(), ['id', 'slug', 'status']);
      t.like(added, { slug, status: 'scheduled' });
      const row = (await organization(store(), slug))!;
      t.like(row, {
        name: 'Acme S.A.',
        country: 'CL',
        tax_id: '760864285',
        seat_limit: 10,
        home_client_id: 'benefits',
        logo_uri: 'https://acme.example/logo.svg',
        require_mfa: true,
        single_session: true,
        welcomed_at: null,
      });
      t.is(new Date(row.activates_at).toISOString(), '2030-03-01T12:00:00.000Z');
      t.deepEqual(jsonArray(row.sign_in_methods), ['password', 'microsoft']);
      const bindings = await inStore(store(), (db) =>
        db
          .selectFrom('organization_upstream_bindings')
          .select(['provider', 'value'])
          .where('organization_id', '=', row.id)
          .orderBy('provider')
          .execute(),
      );
      t.deepEqual(bindings, [
        { provider: 'google', value: 'acme.example' },
        { provider: 'microsoft', value: tenant },
      ]);
      const invitations = await invitationsOf(store(), slug);
      t.deepEqual(
        invitations.map((i) => [
          i.email,
          jsonArray(i.roles),
          i.designates_admin,
          i.token_hash,
          i.times_sent,
          i.invited_by,
        ]),
        [
          ['ana@acme.example', ['admin'], true, null, 0, 'operator'],
          ['bruno@acme.example', ['admin'], true, null, 0, 'operator'],
        ],
        'one invitation per admin (case aside), without a link until the welcome',
      );
      // A waiting invitation holds its seat and keeps its link's week past the activation.
      const expiresAfterActivation =
        new Date(invitations[0]!.expires_at).getTime() - new Date(row.activates_at).getTime();
      t.true(Math.abs(expiresAfterActivation - 7 * DAY) < 60_000, String(expiresAfterActivation));
      t.deepEqual(await mailsTo(store(), 'ana@acme.example'), [], 'nothing is mailed before the activation');

      const defaults = await ok(t, store(), ['orgs', 'add', '--name', `Ñandú Ltda ${slug}`]);
      t.like(
        defaults,
        { slug: `nandu-ltda-${slug}`, status: 'active' },
        'the slug comes from the name; active from now',
      );
    },
  );

  test.serial(
    `[${kind}] orgs add: an active company mails its admins the welcome at once, in their language`,
    async (t) => {
      await addClient(store(), 'benefits', 'Portal de Beneficios');
      const slug = unique('beta');
      const lucia = unique('lucia');
      await addUser(store(), `${lucia}@beta.example`, 'pt-BR');
      const added = await ok(t, store(), [
        'orgs',
        'add',
        '--name',
        'Beta S.p.A.',
        '--slug',
        slug,
        '--home-client',
        'benefits',
        '--admin',
        `${slug}-ana@beta.example`,
        '--admin',
        `${lucia}@beta.example`,
      ]);
      t.is(added.status, 'active');
      const row = (await organization(store(), slug))!;
      t.truthy(row.welcomed_at, 'the activation is recorded as carried out');
      const [ana] = await mailsTo(store(), `${slug}-ana@beta.example`);
      t.like(ana, { template: 'organization-welcome', locale: 'es' });
      t.like(mailData(ana!), { company: 'Beta S.p.A.', portal: 'Portal de Beneficios', roles: 'administración' });
      t.false('inviter' in mailData(ana!), 'the operator invites as the company');
      const [pt] = await mailsTo(store(), `${lucia}@beta.example`);
      t.like(pt, { template: 'organization-welcome', locale: 'pt-BR' }, 'an account’s own language');
      const found = await inStore(store(), (db) => new InvitationRepository(db).findByToken(tokenIn(ana!)));
      t.like(found, { state: 'pending', roles: ['admin'] });
      t.is(found!.row.email, `${slug}-ana@beta.example`);
      // Run again (a scheduler, a resumed command): nothing is mailed twice.
      const again = await inStore(store(), (db) => scheduler(db, () => Date.now()).runOnce());
      t.is(again.invitationsMailed, 0);
      t.is((await mailsTo(store(), `${slug}-ana@beta.example`)).length, 1);
    },
  );

  test.serial(`[${kind}] orgs add refuses bad values with a clear message and adds nothing`, async (t) => {
    const taken = unique('taken');
    const tenant = randomUUID();
    await ok(t, store(), ['orgs', 'add', '--name', 'Taken', '--slug', taken, '--microsoft-tenant', tenant]);
    const add = (...args: string[]) => ['orgs', 'add', '--name', 'Gamma', '--slug', unique('gamma'), ...args];
    const cases: Array<[string[], string | RegExp, number?]> = [
      [add('--country', 'XX'), '"XX" is not an ISO 3166-1 alpha-2 country code'],
      [add('--country', 'Chile'), '"Chile" is not an ISO 3166-1 alpha-2 country code'],
      [
        add('--activates-at', '2030-02-30T09:00:00Z'),
        '--activates-at "2030-02-30T09:00:00Z" is not an ISO 8601 date-time',
      ],
      [add('--activates-at', 'next monday'), '--activates-at "next monday" is not an ISO 8601 date-time'],
      [add('--activates-at', '2030-03-01T09:00'), 'is not an ISO 8601 date-time', 1],
      [add('--ends-at', '2030-13-01'), '--ends-at "2030-13-01" is not an ISO 8601 date-time'],
      [
        add('--activates-at', '2030-03-01T00:00:00Z', '--ends-at', '2030-02-01T00:00:00Z'),
        'the contract must end after it starts',
      ],
      [
        add('--ends-at', '2020-01-01T00:00:00Z'),
        'is in the past: to stop an organization now, use umbral orgs suspend',
      ],
      [['orgs', 'add', '--name', 'Taken', '--slug', taken], `an organization with slug "${taken}" already exists`],
      [['orgs', 'add', '--name', 'Taken again', '--slug', 'Bad_Slug'], '"Bad_Slug" is not a valid slug'],
      [['orgs', 'add', '--name', '¡¡!!'], 'no slug can be made from "¡¡!!": give one with --slug'],
      [['orgs', 'add', '--name', '   '], 'the organization needs a name'],
      [add('--tax-id', 'x'.repeat(41)), 'a tax id has 1 to 40 characters'],
      [add('--seats', '0'), 'a seat limit is a whole number from 1 to 1000000, not "0"'],
      [add('--seats', 'ten'), 'a seat limit is a whole number from 1 to 1000000, not "ten"'],
      [add('--seats', '1', '--admin', 'a@g.example', '--admin', 'b@g.example'), '2 admins do not fit in 1 seats'],
      [add('--admin', 'not-an-email'), '--admin "not-an-email" is not a valid email address'],
      [add('--home-client', 'nope'), '--home-client: no client with id nope'],
      [add('--sign-in-method', 'fax'), '"fax" is not a sign-in method: use password, google, microsoft, passkey'],
      [add('--microsoft-tenant', 'contoso'), '"contoso" is not a Microsoft tenant id'],
      [add('--microsoft-tenant', tenant), `Microsoft tenant ${tenant} is already bound to another organization`],
      [add('--google-domain', 'not a domain'), '"not a domain" is not a Google Workspace domain'],
      [['orgs', 'add', '--slug', 'x'], '"orgs add" needs --name', 2],
      [['orgs', 'add', '--name', 'A', '--name', 'B'], '--name given more than once', 2],
      [['orgs', 'add', '--name', 'A', '--colour', 'blue'], 'unknown option --colour for "orgs add"', 2],
      [['orgs', 'frobnicate'], 'unknown command "orgs frobnicate"', 2],
      [['orgs'], '"orgs" needs a subcommand', 2],
    ];
    for (const [args, message, code] of cases) await refused(t, store(), args, message, code);
  });

  test.serial(`[${kind}] orgs list, show and members print a table, or JSON with --json`, async (t) => {
    const slug = unique('delta');
    await ok(t, store(), [
      'orgs',
      'add',
      '--name',
      'Delta',
      '--slug',
      slug,
      '--seats',
      '5',
      '--admin',
      `${slug}@d.example`,
    ]);
    const member = await addUser(store(), `${slug}-m@d.example`);
    await join(store(), slug, member.id, ['member']);

    const listed = await ok(t, store(), ['orgs', 'list', '--json']);
    t.like(
      listed.find((o: { slug: string }) => o.slug === slug),
      { name: 'Delta', status: 'active', ends_at: null },
    );
    const text = await ok(t, store(), ['orgs', 'list']);
    t.regex(text, /^SLUG\s+STATUS\s+ACTIVATES AT\s+ENDS AT\s+NAME$/m);
    t.regex(text, new RegExp(`^${slug}\\s+active\\s+\\S+\\s+—\\s+Delta$`, 'm'));

    const shown = await ok(t, store(), ['orgs', 'show', '--org', slug, '--json']);
    t.like(shown, {
      slug,
      status: 'active',
      seat_limit: 5,
      seats_taken: 2,
      policy: { require_mfa: false, single_session: false },
    });
    t.deepEqual(shown.policy.sign_in_methods, ['password', 'google', 'microsoft', 'passkey']);
    t.deepEqual(
      shown.members.map((m: { email: string; roles: string[] }) => [m.email, m.roles]),
      [[`${slug}-m@d.example`, ['member']]],
    );
    t.like(shown.pending_invitations[0], { email: `${slug}@d.example`, roles: ['admin'], mailed: true, times_sent: 1 });
    const byId = await ok(t, store(), ['orgs', 'show', '--org', shown.id, '--json']);
    t.is(byId.slug, slug, '--org takes the id too');
    const detail = await ok(t, store(), ['orgs', 'show', '--org', slug]);
    t.regex(detail, /^status\s+active$/m);
    t.regex(detail, /^seats\s+2 taken of 5$/m);
    t.regex(detail, /^Members \(1\)$/m);
    t.regex(detail, new RegExp(`${slug}@d.example\\s+admin\\s+expires \\S+\\s+mailed 1×`));

    const members = await ok(t, store(), ['orgs', 'members', '--org', slug, '--json']);
    t.like(members, [{ email: `${slug}-m@d.example`, name: `Name of ${slug}-m@d.example`, roles: ['member'] }]);
    t.regex(
      await ok(t, store(), ['orgs', 'members', '--org', slug]),
      new RegExp(`^${slug}-m@d.example\\s+Name of`, 'm'),
    );

    for (const command of ['show', 'members']) {
      await refused(
        t,
        store(),
        ['orgs', command, '--org', 'no-such-org'],
        'no organization "no-such-org" (see umbral orgs list)',
      );
      await refused(t, store(), ['orgs', command], `"orgs ${command}" needs --org`, 2);
    }
    await refused(t, store(), ['orgs', 'list', '--all'], 'unknown option --all for "orgs list"', 2);
  });

  test.serial(
    `[${kind}] orgs update changes what is given, clears with --no-…, and moves waiting invitations`,
    async (t) => {
      await addClient(store(), 'benefits', 'Portal de Beneficios');
      const slug = unique('eps');
      await ok(t, store(), [
        'orgs',
        'add',
        '--name',
        'Epsilon',
        '--slug',
        slug,
        '--country',
        'MX',
        '--tax-id',
        'EPS010101AB1',
        '--activates-at',
        '2030-01-01T00:00:00Z',
        '--ends-at',
        '2031-01-01T00:00:00Z',
        '--seats',
        '3',
        '--home-client',
        'benefits',
        '--require-mfa',
        '--google-domain',
        `${slug}.example`,
        '--admin',
        `${slug}@e.example`,
      ]);
      const before = (await invitationsOf(store(), slug))[0]!;
      const renamed = `${slug}-new`;
      const updated = await ok(t, store(), [
        'orgs',
        'update',
        '--org',
        slug,
        '--slug',
        renamed,
        '--name',
        'Epsilon Holding',
        '--activates-at',
        '2030-01-11T00:00:00Z',
        '--no-country',
        '--no-tax-id',
        '--no-ends-at',
        '--no-seats',
        '--no-home-client',
        '--no-logo-uri',
        '--no-require-mfa',
        '--single-session',
        '--no-google-domains',
        '--sign-in-method',
        'passkey',
      ]);
      t.like(updated, { slug: renamed, status: 'scheduled' });
      const row = (await organization(store(), renamed))!;
      t.like(row, {
        name: 'Epsilon Holding',
        country: null,
        tax_id: null,
        ends_at: null,
        seat_limit: null,
        home_client_id: null,
        logo_uri: null,
        require_mfa: false,
        single_session: true,
      });
      t.deepEqual(jsonArray(row.sign_in_methods), ['passkey']);
      const after = (await invitationsOf(store(), renamed))[0]!;
      t.is(
        new Date(after.expires_at).getTime() - new Date(before.expires_at).getTime(),
        10 * DAY,
        'the waiting link keeps its week after the new activation',
      );
      // Moving the activation to now makes it active: the admin is welcomed at once.
      const now = new Date(Date.now() - 1000).toISOString();
      t.like(
        await ok(t, store(), [
          'orgs',
          'update',
          '--org',
          renamed,
          '--activates-at',
          now,
          '--admin',
          `${slug}-2@e.example`,
        ]),
        {
          status: 'active',
        },
      );
      const welcome = await mailsTo(store(), `${slug}@e.example`);
      t.deepEqual(
        welcome.map((m) => m.template),
        ['organization-welcome'],
      );
      const linkTtl = new Date((await invitationsOf(store(), renamed))[0]!.expires_at).getTime() - Date.now();
      t.true(linkTtl > 7 * DAY - 60_000 && linkTtl <= 7 * DAY, 'the link is valid a week from the mail');
      t.deepEqual(
        (await mailsTo(store(), `${slug}-2@e.example`)).map((m) => m.template),
        ['organization-welcome'],
      );
      t.truthy((await organization(store(), renamed))!.welcomed_at);
    },
  );

  test.serial(`[${kind}] orgs update refuses bad values and changes nothing`, async (t) => {
    const slug = unique('zeta');
    const other = unique('other');
    const tenant = randomUUID();
    await ok(t, store(), ['orgs', 'add', '--name', 'Other', '--slug', other, '--microsoft-tenant', tenant]);
    await ok(t, store(), [
      'orgs',
      'add',
      '--name',
      'Zeta',
      '--slug',
      slug,
      '--seats',
      '2',
      '--admin',
      `${slug}@z.example`,
      '--ends-at',
      '2031-01-01T00:00:00Z',
    ]);
    const member = await addUser(store(), `${slug}-m@z.example`);
    await join(store(), slug, member.id, ['member']);
    const update = (...args: string[]) => ['orgs', 'update', '--org', slug, ...args];
    const cases: Array<[string[], string | RegExp, number?]> = [
      [['orgs', 'update', '--org', 'no-such-org', '--name', 'X'], 'no organization "no-such-org"'],
      [update(), '"orgs update" needs something to change', 2],
      [
        update('--ends-at', '2032-01-01T00:00:00Z', '--no-ends-at'),
        'give either --ends-at or --no-ends-at, not both',
        2,
      ],
      [
        update('--google-domain', 'z.example', '--no-google-domains'),
        'give either --google-domain or --no-google-domains',
        2,
      ],
      [update('--activates-at', '2031-06-01T00:00:00Z'), 'the contract must end after it starts'],
      [update('--ends-at', '2021-06-01T00:00:00Z'), 'is in the past'],
      [update('--ends-at', 'soon'), '--ends-at "soon" is not an ISO 8601 date-time'],
      [update('--country', 'ZZ'), '"ZZ" is not an ISO 3166-1 alpha-2 country code'],
      [update('--slug', other), `an organization with slug "${other}" already exists`],
      [update('--home-client', 'nope'), '--home-client: no client with id nope'],
      [update('--seats', '1'), 'would need 2 seats'],
      [
        update('--admin', `${slug}-new@z.example`),
        // The Admin API's problem detail, word for word (one service under both).
        'Zeta would need 3 seats (2 taken by members and pending invitations, 1 new admins): more than 2',
      ],
      [update('--no-seats', '--admin', `${slug}-m@z.example`), `${slug}-m@z.example is already a member of Zeta`],
      [
        update('--microsoft-tenant', tenant),
        `Microsoft tenant ${tenant} is already bound to another organization (${other})`,
      ],
      [update('--sign-in-method', 'sms'), '"sms" is not a sign-in method'],
      [update('--admin', 'nobody'), '--admin "nobody" is not a valid email address'],
    ];
    for (const [args, message, code] of cases) await refused(t, store(), args, message, code);
    // An ended company takes no admins.
    await inStore(store(), (db) =>
      db
        .updateTable('organizations')
        .set({ activates_at: new Date('2020-01-01'), ends_at: new Date('2021-01-01') })
        .where('slug', '=', slug)
        .execute(),
    );
    await refused(t, store(), update('--admin', `${slug}-late@z.example`), `${slug} has ended: it takes no admins`);
  });

  test.serial(
    `[${kind}] orgs suspend, resume and remove; a welcome held by the suspension goes on resume`,
    async (t) => {
      const slug = unique('eta');
      await ok(t, store(), [
        'orgs',
        'add',
        '--name',
        'Eta',
        '--slug',
        slug,
        '--activates-at',
        '2030-01-01T00:00:00Z',
        '--admin',
        `${slug}@h.example`,
      ]);
      t.like(await ok(t, store(), ['orgs', 'suspend', '--org', slug]), {
        slug,
        status: 'suspended',
        portal_sessions_ended: 0,
      });
      await refused(t, store(), ['orgs', 'suspend', '--org', slug], `${slug} is already suspended`);
      // Its date comes while it is held: no welcome yet.
      t.like(
        await ok(t, store(), [
          'orgs',
          'update',
          '--org',
          slug,
          '--activates-at',
          new Date(Date.now() - 1000).toISOString(),
        ]),
        {
          status: 'suspended',
        },
      );
      t.deepEqual(await mailsTo(store(), `${slug}@h.example`), []);
      t.like(await ok(t, store(), ['orgs', 'resume', '--org', slug]), { status: 'active' });
      t.deepEqual(
        (await mailsTo(store(), `${slug}@h.example`)).map((m) => m.template),
        ['organization-welcome'],
      );
      await refused(t, store(), ['orgs', 'resume', '--org', slug], `${slug} is not suspended`);
      for (const command of ['suspend', 'resume', 'remove']) {
        await refused(t, store(), ['orgs', command, '--org', 'no-such-org'], 'no organization "no-such-org"');
        await refused(t, store(), ['orgs', command], `"orgs ${command}" needs --org`, 2);
      }
      const org = (await organization(store(), slug))!;
      t.like(await ok(t, store(), ['orgs', 'remove', '--org', slug]), { removed: slug, id: org.id });
      t.is(await organization(store(), slug), undefined);
      t.deepEqual(await invitationsOf(store(), slug), [], 'its invitations go with it');
    },
  );

  test.serial(
    `[${kind}] orgs invite: mailed at once while active; waiting while scheduled, then mailed at the activation`,
    async (t) => {
      await addClient(store(), 'benefits', 'Portal de Beneficios');
      const role = `sup_${randomUUID().slice(0, 6)}`;
      await ok(t, store(), ['roles', 'add', '--name', role]);
      const active = unique('theta');
      await ok(t, store(), ['orgs', 'add', '--name', 'Theta', '--slug', active, '--home-client', 'benefits']);
      const invited = await ok(t, store(), [
        'orgs',
        'invite',
        '--org',
        active,
        '--email',
        `${active}@t.example`,
        '--role',
        role,
        '--role',
        'member',
        '--expires-in',
        '2d',
      ]);
      t.like(invited, {
        organization: active,
        email: `${active}@t.example`,
        mailed: true,
        times_sent: 1,
        designates_admin: false,
      });
      t.deepEqual(invited.roles, [role, 'member'].sort());
      const ttl = new Date(invited.expires_at).getTime() - Date.now();
      t.true(ttl > 2 * DAY - 60_000 && ttl <= 2 * DAY, '--expires-in counts from the mail');
      const [mail] = await mailsTo(store(), `${active}@t.example`);
      t.like(mail, { template: 'organization-invitation', locale: 'es' });
      t.like(mailData(mail!), { company: 'Theta', portal: 'Portal de Beneficios', email: `${active}@t.example` });
      t.deepEqual(mailData(mail!)['roles']!.split(', ').sort(), [role, 'miembro'].sort());
      // Inviting again renews: a new link, the old one stops working, no new seat.
      const first = tokenIn(mail!);
      await ok(t, store(), ['orgs', 'invite', '--org', active, '--email', `${active}@t.example`, '--role', 'admin']);
      const mails = await mailsTo(store(), `${active}@t.example`);
      t.is(mails.length, 2);
      t.is(mails[1]!.template, 'organization-welcome', '--role admin designates an admin');
      t.is(await inStore(store(), (db) => new InvitationRepository(db).findByToken(first)), undefined);

      const scheduled = unique('iota');
      const activatesAt = Date.now() + 3 * DAY;
      await ok(t, store(), [
        'orgs',
        'add',
        '--name',
        'Iota',
        '--slug',
        scheduled,
        '--activates-at',
        new Date(activatesAt).toISOString(),
        '--admin',
        `${scheduled}-admin@i.example`,
      ]);
      const waiting = await ok(t, store(), [
        'orgs',
        'invite',
        '--org',
        scheduled,
        '--email',
        `${scheduled}@i.example`,
        '--expires-in',
        '3d',
      ]);
      t.like(waiting, { mailed: false, times_sent: 0, roles: ['member'] });
      t.deepEqual(await mailsTo(store(), `${scheduled}@i.example`), []);
      // The scheduler, at the activation, mails the admin's welcome and the member's invitation.
      const run = await inStore(store(), (db) => scheduler(db, () => activatesAt + 1000).runOnce());
      t.like(run, { activated: 1, invitationsMailed: 2 });
      t.deepEqual(
        (await mailsTo(store(), `${scheduled}@i.example`)).map((m) => m.template),
        ['organization-invitation'],
      );
      t.deepEqual(
        (await mailsTo(store(), `${scheduled}-admin@i.example`)).map((m) => m.template),
        ['organization-welcome'],
      );
      const [member] = (await invitationsOf(store(), scheduled)).filter((i) => i.email === `${scheduled}@i.example`);
      t.is(
        new Date(member!.expires_at).getTime(),
        activatesAt + 1000 + 3 * DAY,
        'its link lasts --expires-in from the mail',
      );
    },
  );

  test.serial(`[${kind}] orgs invite refuses bad values and changes nothing`, async (t) => {
    const slug = unique('kappa');
    await ok(t, store(), [
      'orgs',
      'add',
      '--name',
      'Kappa',
      '--slug',
      slug,
      '--seats',
      '2',
      '--admin',
      `${slug}@k.example`,
    ]);
    const member = await addUser(store(), `${slug}-m@k.example`);
    await join(store(), slug, member.id, ['member']);
    const suspended = unique('lambda');
    await ok(t, store(), ['orgs', 'add', '--name', 'Lambda', '--slug', suspended]);
    await ok(t, store(), ['orgs', 'suspend', '--org', suspended]);
    const ended = unique('mu');
    await ok(t, store(), ['orgs', 'add', '--name', 'Mu', '--slug', ended]);
    await inStore(store(), (db) =>
      db
        .updateTable('organizations')
        .set({ activates_at: new Date('2020-01-01'), ends_at: new Date('2021-01-01') })
        .where('slug', '=', ended)
        .execute(),
    );
    const invite = (...args: string[]) => ['orgs', 'invite', '--org', slug, ...args];
    const cases: Array<[string[], string | RegExp, number?]> = [
      [['orgs', 'invite', '--org', 'no-such-org', '--email', 'a@k.example'], 'no organization "no-such-org"'],
      [invite('--email', 'nobody'), '--email "nobody" is not a valid email address'],
      [invite('--email', 'x@k.example', '--role', 'ghost'), 'unknown role: ghost (see umbral roles list)'],
      [invite('--email', 'x@k.example', '--role', 'Bad Role'), '"Bad Role" is not a valid role name'],
      [invite('--email', 'x@k.example', '--expires-in', '10y'), '--expires-in "10y" is not a duration'],
      [invite('--email', 'x@k.example', '--expires-in', '31d'), '--expires-in 31d is too long: at most 30d'],
      [invite('--email', 'x@k.example'), 'Kappa has no free seat: its limit is 2 and 2 are taken'],
      [invite('--email', `${slug}-m@k.example`), `${slug}-m@k.example is already a member of Kappa`],
      [
        ['orgs', 'invite', '--org', suspended, '--email', 'x@l.example'],
        `${suspended} is suspended: it takes no invitations until umbral orgs resume`,
      ],
      [['orgs', 'invite', '--org', ended, '--email', 'x@m.example'], `${ended} is ended: it takes no invitations`],
      [['orgs', 'invite', '--org', slug], '"orgs invite" needs --email', 2],
      [
        ['orgs', 'revoke-invitation', '--org', slug, '--email', 'x@k.example'],
        `x@k.example has no pending invitation to ${slug}`,
      ],
      [['orgs', 'revoke-invitation', '--org', slug, '--email', 'x'], '--email "x" is not a valid email address'],
    ];
    for (const [args, message, code] of cases) await refused(t, store(), args, message, code);
    t.like(
      await ok(t, store(), ['orgs', 'revoke-invitation', '--org', slug, '--email', `${slug.toUpperCase()}@k.example`]),
      {
        revoked: `${slug.toUpperCase()}@k.example`,
      },
    );
    t.deepEqual(
      (await invitationsOf(store(), slug)).map((i) => i.status),
      ['revoked'],
    );
  });

  test.serial(`[${kind}] orgs remove-member ends a membership; the last admin stays`, async (t) => {
    const slug = unique('nu');
    await ok(t, store(), ['orgs', 'add', '--name', 'Nu', '--slug', slug]);
    const admin = await addUser(store(), `${slug}-a@n.example`);
    const second = await addUser(store(), `${slug}-b@n.example`);
    await join(store(), slug, admin.id, ['admin']);
    await join(store(), slug, second.id, ['admin', 'member']);
    t.like(await ok(t, store(), ['orgs', 'remove-member', '--org', slug, '--email', `${slug}-B@n.example`]), {
      organization: slug,
      portal_sessions_ended: 0,
    });
    t.deepEqual(
      (await ok(t, store(), ['orgs', 'members', '--org', slug, '--json'])).map((m: { email: string }) => m.email),
      [`${slug}-a@n.example`],
    );
    await refused(
      t,
      store(),
      ['orgs', 'remove-member', '--org', slug, '--email', `${slug}-a@n.example`],
      'this is the last admin of an active organization',
    );
    await refused(
      t,
      store(),
      ['orgs', 'remove-member', '--org', slug, '--email', `${slug}-b@n.example`],
      `${slug}-b@n.example is not a member of ${slug}`,
    );
    await refused(
      t,
      store(),
      ['orgs', 'remove-member', '--org', slug, '--email', 'stranger@n.example'],
      `stranger@n.example is not a member of ${slug}`,
    );
    await refused(
      t,
      store(),
      ['orgs', 'remove-member', '--org', 'no-such-org', '--email', 'a@n.example'],
      'no organization "no-such-org"',
    );
  });

  test.serial(`[${kind}] roles add, list and remove; refusals change nothing`, async (t) => {
    const name = `sup_${randomUUID().slice(0, 6)}`;
    t.deepEqual(
      await ok(t, store(), [
        'roles',
        'add',
        '--name',
        name,
        '--permission',
        'conversations:assign',
        '--permission',
        'reports.read',
        '--permission',
        'conversations:assign',
        '--description',
        ' Assigns conversations ',
      ]),
      {
        name,
        description: 'Assigns conversations',
        permissions: ['conversations:assign', 'reports.read'],
        built_in: false,
      },
    );
    const roles = await ok(t, store(), ['roles', 'list', '--json']);
    t.deepEqual(
      roles.slice(0, 2).map((r: { name: string }) => r.name),
      ['admin', 'member'],
      'the built-in roles first',
    );
    t.truthy(roles.find((r: { name: string }) => r.name === name));
    t.regex(
      await ok(t, store(), ['roles', 'list']),
      new RegExp(`^${name}\\s+no\\s+conversations:assign,reports.read\\s+Assigns conversations$`, 'm'),
    );

    const slug = unique('xi');
    await ok(t, store(), ['orgs', 'add', '--name', 'Xi', '--slug', slug]);
    await ok(t, store(), ['orgs', 'invite', '--org', slug, '--email', `${slug}@x.example`, '--role', name]);
    const cases: Array<[string[], string | RegExp, number?]> = [
      [['roles', 'add', '--name', 'Supervisor'], '"Supervisor" is not a valid role name'],
      [['roles', 'add', '--name', name], `a role named "${name}" already exists`],
      [['roles', 'add', '--name', 'admin'], 'a role named "admin" already exists'],
      [['roles', 'add', '--name', 'auditor', '--permission', 'read all'], '"read all" is not a valid permission'],
      [
        ['roles', 'add', '--name', 'auditor', '--description', 'd'.repeat(201)],
        '--description has at most 200 characters',
      ],
      [['roles', 'remove', '--name', 'admin'], '"admin" is built in and cannot be removed'],
      [['roles', 'remove', '--name', 'member'], '"member" is built in and cannot be removed'],
      [['roles', 'remove', '--name', name], `role "${name}" is in use by members or pending invitations`],
      [['roles', 'remove', '--name', 'ghost'], 'no role named "ghost"'],
      [['roles', 'add'], '"roles add" needs --name', 2],
      [['roles'], '"roles" needs a subcommand: add, list or remove', 2],
    ];
    for (const [args, message, code] of cases) await refused(t, store(), args, message, code);
    await ok(t, store(), ['orgs', 'revoke-invitation', '--org', slug, '--email', `${slug}@x.example`]);
    t.deepEqual(await ok(t, store(), ['roles', 'remove', '--name', name]), { removed: name });
    t.falsy((await ok(t, store(), ['roles', 'list', '--json'])).find((r: { name: string }) => r.name === name));
  });

  test.serial(
    `[${kind}] every change is logged at info on stderr, with the command and the organization, nothing secret`,
    async (t) => {
      const slug = unique('omicron');
      const result = await run(
        store(),
        ['orgs', 'add', '--name', 'Omicron', '--slug', slug, '--admin', `${slug}@o.example`],
        {
          LOG_LEVEL: 'info',
        },
      );
      t.is(result.code, 0, result.stderr);
      const lines = ownStderr(result)
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const id = JSON.parse(result.stdout).id;
      t.like(
        lines.find((l) => l['event'] === 'operator.org_added'),
        { level: 30, command: 'orgs add', organizationId: id, admins: 1, mailed: 1 },
      );
      const [mail] = await mailsTo(store(), `${slug}@o.example`);
      t.false(result.stderr.includes(tokenIn(mail!)), 'the link’s token is not logged');
      t.false(result.stderr.includes(`${slug}@o.example`), 'nor the address');
    },
  );
}

function scheduler(db: Kysely<Database>, now: () => number) {
  const logger = createLogger('silent');
  return new ContractScheduler({
    db,
    logger,
    mail: new OrganizationMail({ issuer: ISSUER, productName: 'Umbral', now }),
    sessions: new OrganizationSessions({ provider: () => Promise.reject(new Error('no provider here')), logger }),
    endWarningDays: 14,
    now,
  });
}
