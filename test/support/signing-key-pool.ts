import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JWK } from 'jose';
import {
  generatePrivateJwk,
  SIGNING_ALGS,
  type SigningAlg,
  useSigningKeySource,
} from '../../src/provider/signing-keys.ts';

/**
 * Signing keys made once per machine and handed out to every test server and CLI run, instead of
 * a new 2048-bit RSA key per start. Within one process each draw is another key of the pool, so a
 * rotation in one database still adds keys that differ from the ones it retires.
 */
const POOL_SIZE = 6;
const POOL_FILE = path.join(os.tmpdir(), `umbral-signing-key-pool-${POOL_SIZE}-${SIGNING_ALGS.join('-')}.json`);

type Pool = Record<SigningAlg, JWK[]>;

async function makePool(): Promise<Pool> {
  const pool = {} as Pool;
  for (const alg of SIGNING_ALGS) {
    pool[alg] = [];
    for (let i = 0; i < POOL_SIZE; i++) {
      pool[alg].push(await generatePrivateJwk(alg));
    }
  }
  return pool;
}

/** Read from disk, or made and written there: through a rename, so no process reads half a file. */
async function loadPool(): Promise<Pool> {
  try {
    return JSON.parse(fs.readFileSync(POOL_FILE, 'utf8')) as Pool;
  } catch {
    const pool = await makePool();
    const partial = `${POOL_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(partial, JSON.stringify(pool), { mode: 0o600 });
    fs.renameSync(partial, POOL_FILE);
    return pool;
  }
}

let pool: Promise<Pool> | undefined;
const drawn = Object.fromEntries(SIGNING_ALGS.map((alg) => [alg, 0])) as Record<SigningAlg, number>;

async function pooledKey(alg: SigningAlg): Promise<JWK> {
  pool ??= loadPool();
  const keys = (await pool)[alg];
  return { ...keys[drawn[alg]++ % keys.length]! };
}

/** Makes this process's servers and CLI commands take their signing keys from the pool. */
export function usePooledSigningKeys(): void {
  useSigningKeySource(pooledKey);
}
