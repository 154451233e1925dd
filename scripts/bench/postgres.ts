/** A PostgreSQL database of its own for each bench run, created and dropped through an admin connection. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The admin connection used to create and drop the bench database. */
export const ADMIN_URL = process.env['BENCH_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  name: string;
  /** DATABASE_URL for the server and the CLI. */
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `umbral_bench_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin(async (c) => void (await c.query(`drop database if exists ${name} with (force)`))),
  };
}

export async function postgresVersion(): Promise<string> {
  return admin(async (c) => String((await c.query('show server_version')).rows[0]?.server_version ?? '?'));
}

/** Settings that shape write throughput, recorded with the results. */
export async function postgresSettings(): Promise<Record<string, string>> {
  return admin(async (c) => {
    const { rows } = await c.query(
      `select name, setting from pg_settings where name in ('synchronous_commit','fsync','shared_buffers','max_connections','wal_level')`,
    );
    return Object.fromEntries(rows.map((r: { name: string; setting: string }) => [r.name, r.setting]));
  });
}
