import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { sql } from 'kysely';
import { TaxIdTakenError } from '../../src/organizations/organization-errors.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { COMMAND_STORES, type TestStore } from '../support/stores.ts';
import { inStore, ownStderr, runUmbral, storesPerFile } from './umbral-cli.ts';

const ISSUER = 'http://localhost:4124';
const stores = storesPerFile(test);

const run = (store: TestStore, args: string[], env: Record<string, string> = {}) =>
  runUmbral(args, { env: { ...store.env, ISSUER, ...env } });

async function ok(t: ExecutionContext, store: TestStore, args: string[], env: Record<string, string> = {}) {
  const result = await run(store, args, env);
  t.is(result.code, 0, `${args.join(' ')}: ${ownStderr(result)}`);
  return { json: result.stdout.startsWith('{') ? JSON.parse(result.stdout) : undefined, result };
}

/** Every table an orgs command could touch, as text: a refusal must leave it identical. */
function snapshot(store: TestStore): Promise<string> {
  return inStore(store, async (db) => {
    const all: Record<string, unknown> = {};
    for (const table of ['organizations', 'organization_invitations', 'mail_queue'] as const) {
      all[table] = (await sql`select * from ${sql.table(table)}`.execute(db)).rows
        .map((row) => JSON.stringify(row))
        .sort();
    }
    return JSON.stringify(all);
  });
}

/** A refusal: the exit code, nothing on stdout, the message on stderr, and no change in any table. */
async function refused(
  t: ExecutionContext,
  store: TestStore,
  args: string[],
  message: string,
  options: { code?: number; env?: Record<string, string> } = {},
) {
  const before = await snapshot(store);
  const result = await run(store, args, options.env);
  const label = args.join(' ');
  t.is(result.code, options.code ?? 1, `${label}: ${result.stderr}`);
  t.is(result.stdout, '', label);
  t.true(ownStderr(result).includes(message), `${label}: ${ownStderr(result)}`);
  t.is(await snapshot(store), before, `${label} changed nothing`);
}

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

function organization(store: TestStore, slug: string) {
  return inStore(store, (db) => db.selectFrom('organizations').selectAll().where('slug', '=', slug).executeTakeFirst());
}

/** A valid CUIT of its own for each test: prefix 30 (a company), 8 random digits, the check digit. */
function freshCuit(): string {
  const body = `30${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const sum = [...body].reduce((acc, d, i) => acc + Number(d) * [5, 4, 3, 2, 7, 6, 5, 4, 3, 2][i]!, 0);
  const check = 11 - (sum % 11);
  if (check === 10) return freshCuit();
  return `${body.slice(0, 2)}-${body.slice(2)}-${check === 11 ? 0 : check}`;
}

for (const kind of COMMAND_STORES) {
  const store = () => stores.get(kind)!;

  test.serial(
    `[${kind}] orgs add keeps the company data: the tax id compact, shown as the country writes it`,
    async (t) => {
      const slug = unique('acme');
      const cuit = freshCuit();
      await ok(t, store(), [
        'orgs',
        'add',
        '--name',
        'Acme',
        '--slug',
        slug,
        '--country',
        'ar',
        '--tax-id',
        ` ${cuit} `,
        '--legal-name',
        '  Acme   Sociedad Anónima ',
        '--employees',
        '51-200',
        '--segment',
        'Technology',
        '--postal-code',
        'c1425dkf',
        '--address',
        'Av. Santa Fe',
        '--address-number',
        '1234',
        '--address-complement',
        'Piso 5, oficina B',
      ]);
      const row = (await organization(store(), slug))!;
      t.like(row, {
        country: 'AR',
        tax_id: cuit.replaceAll('-', ''),
        legal_name: 'Acme Sociedad Anónima',
        employee_band: '51-200',
        segment: 'technology',
        postal_code: 'C1425DKF',
        address_line: 'Av. Santa Fe',
        address_number: '1234',
        address_complement: 'Piso 5, oficina B',
      });

      const { json } = await ok(t, store(), ['orgs', 'show', '--org', slug, '--json']);
      t.like(json, {
        country: 'AR',
        tax_id: cuit.replaceAll('-', ''),
        tax_id_formatted: cuit,
        legal_name: 'Acme Sociedad Anónima',
        employees: '51-200',
        segment: 'technology',
        address: { line: 'Av. Santa Fe', number: '1234', complement: 'Piso 5, oficina B', postal_code: 'C1425DKF' },
      });
      const text = (await ok(t, store(), ['orgs', 'show', '--org', slug])).result.stdout;
      t.regex(text, new RegExp(`tax id\\s+CUIT ${cuit}\\n`));
      t.regex(text, /address\s+Av\. Santa Fe 1234, Piso 5, oficina B\n/);
      t.regex(text, /employees\s+51-200\n/);
    },
  );

  test.serial(`[${kind}] an alphanumeric CNPJ and a Mexican RFC whose check digit only warns`, async (t) => {
    const br = unique('br');
    await ok(t, store(), ['orgs', 'add', '--name', 'Brasil', '--slug', br, '--country', 'BR']);
    await ok(t, store(), [
      'orgs',
      'update',
      '--org',
      br,
      '--tax-id',
      '12.abc.345/01de-35',
      '--postal-code',
      '01310100',
    ]);
    t.like(await organization(store(), br), { tax_id: '12ABC34501DE35', postal_code: '01310-100' });

    const mx = unique('mx');
    const { result } = await ok(t, store(), [
      'orgs',
      'add',
      '--name',
      'México',
      '--slug',
      mx,
      '--country',
      'MX',
      '--tax-id',
      'SAT970701NN4',
    ]);
    t.regex(ownStderr(result), /warning: The RFC's check digit does not match\. It was accepted/);
    t.like(await organization(store(), mx), { tax_id: 'SAT970701NN4' });
  });

  test.serial(`[${kind}] every refusal says why, exits 1 and changes nothing`, async (t) => {
    const taken = unique('taken');
    const cuit = freshCuit();
    await ok(t, store(), ['orgs', 'add', '--name', 'Taken S.A.', '--slug', taken, '--country', 'AR', '--tax-id', cuit]);
    const other = unique('other');
    await ok(t, store(), [
      'orgs',
      'add',
      '--name',
      'Other',
      '--slug',
      other,
      '--country',
      'AR',
      '--postal-code',
      '1425',
    ]);
    const add = (...args: string[]) => ['orgs', 'add', '--name', 'Gamma', '--slug', unique('gamma'), ...args];
    const update = (...args: string[]) => ['orgs', 'update', '--org', other, ...args];
    const wrongDigit = `${cuit.slice(0, -1)}${(Number(cuit.slice(-1)) + 1) % 10}`;
    const cases: Array<[string[], string, number?]> = [
      [add('--country', 'AR', '--tax-id', wrongDigit), 'The CUIT is not valid: the check digit does not match'],
      [add('--country', 'AR', '--tax-id', '30-1234'), 'The CUIT is not valid: it must have 11 digits'],
      [
        add('--country', 'BR', '--tax-id', '12.ABC.345/01DE-36'),
        'The CNPJ is not valid: the check digit does not match',
      ],
      [add('--country', 'CL', '--tax-id', '60.803.000-1'), 'The RUT is not valid: the check digit does not match'],
      [add('--country', 'MX', '--tax-id', 'GODE561231'), 'The RFC is not valid: it must have 12 characters'],
      [add('--tax-id', '30500010912'), 'a tax id needs the company’s country (--country)'],
      [add('--country', 'AR', '--tax-id', cuit.replaceAll('-', '')), `is already registered to Taken S.A. (${taken})`],
      [add('--country', 'AR', '--postal-code', '14250'), 'The postal code is not valid: in Argentina it is the CPA'],
      [add('--country', 'MX', '--postal-code', '6600'), 'The postal code is not valid: in Mexico it has 5 digits'],
      [add('--employees', '5000'), '"5000" is not an employee band: use 1-10, 11-50, 51-200, 201-1000, 1000+'],
      [add('--segment', 'mining'), '"mining" is not a company segment: use agriculture,'],
      [add('--legal-name', 'x'.repeat(201)), '--legal-name has at most 200 characters'],
      [add('--address', '   '), '--address cannot be empty'],
      [add('--address-number', '1'.repeat(21)), '--address-number has at most 20 characters'],
      [update('--tax-id', cuit), `is already registered to Taken S.A. (${taken})`],
      [update('--country', 'BR', '--tax-id', '30500010912'), 'The CNPJ is not valid: it must have 14 characters'],
      // A new country checks again what is stored: the postal code 1425 is not Mexico's.
      [
        update('--country', 'MX'),
        'in Mexico it has 5 digits (the stored postal code 1425, checked against the new country',
      ],
      [update('--segment', 'technology', '--no-segment'), 'give either --segment or --no-segment, not both', 2],
      [update('--tax-id', cuit, '--no-tax-id'), 'give either --tax-id or --no-tax-id, not both', 2],
    ];
    for (const [args, message, code] of cases) await refused(t, store(), args, message, { code: code ?? 1 });
    // The taken company's own update with its tax id (written otherwise) is no conflict.
    await ok(t, store(), ['orgs', 'update', '--org', taken, '--tax-id', cuit.replaceAll('-', ' ')]);
    // Changing the country re-checks the stored tax id: a CUIT is no CNPJ.
    await refused(
      t,
      store(),
      ['orgs', 'update', '--org', taken, '--country', 'BR'],
      'The CNPJ is not valid: it must have 14 characters (the stored tax id',
    );
    await refused(
      t,
      store(),
      ['orgs', 'update', '--org', taken, '--no-country'],
      'a tax id needs the company’s country',
    );
  });

  test.serial(`[${kind}] orgs update changes and clears the company data; COMPANY_SEGMENTS is the list`, async (t) => {
    const slug = unique('delta');
    await ok(t, store(), [
      'orgs',
      'add',
      '--name',
      'Delta',
      '--slug',
      slug,
      '--country',
      'CL',
      '--tax-id',
      '76.086.428-5',
      '--postal-code',
      '8320000',
      '--legal-name',
      'Delta SpA',
      '--employees',
      '1-10',
      '--address',
      'Av. Apoquindo',
    ]);
    const segments = { COMPANY_SEGMENTS: 'mining, salmon-farming' };
    await ok(t, store(), ['orgs', 'update', '--org', slug, '--segment', 'salmon-farming'], segments);
    // A new country with its own tax id and postal code.
    await ok(t, store(), [
      'orgs',
      'update',
      '--org',
      slug,
      '--country',
      'PE',
      '--tax-id',
      '20131312955',
      '--postal-code',
      '15001',
      '--employees',
      '1000+',
    ]);
    t.like(await organization(store(), slug), {
      country: 'PE',
      tax_id: '20131312955',
      postal_code: '15001',
      employee_band: '1000+',
      segment: 'salmon-farming',
      legal_name: 'Delta SpA',
    });
    await ok(t, store(), [
      'orgs',
      'update',
      '--org',
      slug,
      '--no-tax-id',
      '--no-legal-name',
      '--no-employees',
      '--no-segment',
      '--no-postal-code',
      '--no-address',
      '--no-address-number',
      '--no-address-complement',
    ]);
    t.like(await organization(store(), slug), {
      country: 'PE',
      tax_id: null,
      legal_name: null,
      employee_band: null,
      segment: null,
      postal_code: null,
      address_line: null,
    });
    await refused(
      t,
      store(),
      ['orgs', 'update', '--org', slug, '--segment', 'technology'],
      '"technology" is not a company segment: use mining, salmon-farming',
      { env: segments },
    );
    await refused(
      t,
      store(),
      ['orgs', 'update', '--org', slug, '--legal-name', 'X'],
      'invalid configuration: COMPANY_SEGMENTS',
      {
        env: { COMPANY_SEGMENTS: 'Mining,,x' },
      },
    );
  });

  test.serial(
    `[${kind}] one tax id, one company: the model refuses it, and the unique index refuses it under a race`,
    async (t) => {
      const cuit = freshCuit().replaceAll('-', '');
      await inStore(store(), async (db) => {
        const orgs = new OrganizationRepository(db);
        const first = await orgs.create({
          name: 'First',
          slug: unique('first'),
          activatesAt: new Date(),
          country: 'AR',
          taxId: cuit,
        });
        const error = await t.throwsAsync(
          orgs.create({ name: 'Second', slug: unique('second'), activatesAt: new Date(), country: 'AR', taxId: cuit }),
          { instanceOf: TaxIdTakenError },
        );
        t.is(error.organizationId, first.row.id, 'a page can tell that company’s admins');
        t.like(await orgs.withTaxId('AR', cuit), { row: { id: first.row.id } });
        // Past the check (two at once): the index (country, tax_id) where tax_id is not null.
        const insert = (slug: string, country: string) =>
          sql`insert into organizations (id, slug, name, country, tax_id, activates_at)
            values (${randomUUID()}, ${slug}, 'Raced', ${country}, ${cuit}, now())`.execute(db);
        await t.throwsAsync(insert(unique('raced'), 'AR'), { message: /organizations_tax_id/ });
        await t.notThrowsAsync(insert(unique('elsewhere'), 'PE'), 'the same digits in another country are another id');
      });
    },
  );
}
