import { type Kysely, sql } from 'kysely';

/**
 * A company's data by country (src/organizations/tax-ids.ts, postal-codes.ts, company-input.ts):
 * legal name, employee band, segment and address. `tax_id` stays where it was, now stored compact
 * and checked against `country`; one tax id belongs to one company per country.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table organizations
      add column legal_name text,
      add column employee_band text check (employee_band in ('1-10', '11-50', '51-200', '201-1000', '1000+')),
      add column segment text,
      add column postal_code text,
      add column address_line text,
      add column address_number text,
      add column address_complement text`.execute(db);
  // Tax ids typed before this were kept as typed: the eight checked countries' ids are stored
  // compact from now on (no dots, dashes, slashes or spaces; upper case), so one written
  // 30-50001091-2 and one written 30500010912 are the same company.
  await sql`
    update organizations
    set tax_id = upper(regexp_replace(tax_id, '[[:space:]./-]', '', 'g'))
    where tax_id is not null and country in ('AR', 'BR', 'CL', 'CO', 'EC', 'MX', 'PE', 'UY')`.execute(db);
  await sql`
    create unique index organizations_tax_id on organizations (country, tax_id) where tax_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists organizations_tax_id`.execute(db);
  await sql`
    alter table organizations
      drop column legal_name,
      drop column employee_band,
      drop column segment,
      drop column postal_code,
      drop column address_line,
      drop column address_number,
      drop column address_complement`.execute(db);
}
