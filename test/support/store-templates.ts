import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { PROJECT_ROOT } from '../../src/config/project-root.ts';
import { migrateToLatest, openStorage } from '../../src/storage/database.ts';
import type { Database } from '../../src/storage/schema.ts';

/**
 * Migrated databases made once and copied for each test: migrating from scratch takes seconds,
 * copying takes milliseconds. Both are keyed by a hash of the migrations, so changing one
 * builds a new template instead of handing out a stale schema.
 */
const migrationsDir = path.join(PROJECT_ROOT, 'src/storage/migrations');

function migrationsHash(): string {
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(migrationsDir).sort()) hash.update(fs.readFileSync(path.join(migrationsDir, file)));
  return hash.digest('hex').slice(0, 16);
}

/** Opens `storage` (as the server would), migrates it and closes it again. */
async function migrate(
  options: { databaseUrl: string | undefined; dataDir: string },
  finish: (db: Kysely<Database>) => Promise<void> = async () => {},
): Promise<void> {
  const storage = await openStorage({ ...options, role: 'cli' });
  try {
    await migrateToLatest(storage.db);
    await finish(storage.db);
  } finally {
    await storage.close();
  }
}

/**
 * PGlite's initdb leaves template0 and template1, which Umbral never uses (it never creates a
 * database there): without them each test's copy has half the files to copy and delete.
 */
async function dropTemplateDatabases(db: Kysely<Database>): Promise<void> {
  await sql`update pg_database set datistemplate = false where datname in ('template0', 'template1')`.execute(db);
  await sql`drop database template0`.execute(db);
  await sql`drop database template1`.execute(db);
  // A test's database needs no durability: PGlite's commits don't wait for their flush to disk.
  await sql`alter database postgres set synchronous_commit = off`.execute(db);
  await sql`checkpoint`.execute(db);
}

/**
 * A migrated PGlite data directory per machine. Processes that race to make it each build their
 * own copy and rename it into place: the rename is atomic, the loser throws its copy away.
 */
export async function pgliteTemplate(): Promise<string> {
  const template = path.join(os.tmpdir(), `umbral-pglite-migrated-${migrationsHash()}-slim-async`);
  if (fs.existsSync(path.join(template, 'ready'))) return template;
  const building = `${template}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.mkdirSync(building, { recursive: true });
  try {
    await migrate({ databaseUrl: undefined, dataDir: building }, dropTemplateDatabases);
    fs.writeFileSync(path.join(building, 'ready'), '');
    fs.renameSync(building, template);
  } catch (error) {
    fs.rmSync(building, { recursive: true, force: true });
    if (!fs.existsSync(path.join(template, 'ready'))) throw error; // not merely a lost race
  }
  return template;
}

/** Any constant: the advisory lock that lets one process at a time build the PostgreSQL template. */
const TEMPLATE_LOCK = 0x756d6272;

let postgresTemplateName: Promise<string> | undefined;

/**
 * A migrated PostgreSQL database per migrations hash, for `create database … template …`.
 * Built under an advisory lock, then renamed into place, so no process ever copies a half-built one.
 */
export function postgresTemplate(adminUrl: string): Promise<string> {
  postgresTemplateName ??= buildPostgresTemplate(adminUrl);
  return postgresTemplateName;
}

async function buildPostgresTemplate(adminUrl: string): Promise<string> {
  const name = `umbral_tmpl_${migrationsHash()}`;
  const building = `${name}_building`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount) return name;
    await admin.query(`drop database if exists ${building} with (force)`); // left by a run that died building it
    await admin.query(`create database ${building}`);
    const url = new URL(adminUrl);
    url.pathname = `/${building}`;
    await migrate({ databaseUrl: url.toString(), dataDir: os.tmpdir() });
    await admin.query(`alter database ${building} rename to ${name}`);
    return name;
  } finally {
    await admin.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK]).catch(() => undefined);
    await admin.end();
  }
}
