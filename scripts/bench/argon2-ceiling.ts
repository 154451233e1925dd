/**
 * The login ceiling: how many argon2id verifications (Umbral's parameters, src/users/password-hasher.ts)
 * one core does. A complete login costs one, so no login rate per core can pass this figure.
 * Run as a child process (pinned to the server's core): `node build/scripts/bench/argon2-ceiling.js`
 * with ARGON2_SECONDS and ARGON2_IN_FLIGHT; prints {"verifications","cpuSeconds","perCore"} as one JSON line.
 */
import { hashPassword, verifyPassword } from '../../src/users/password-hasher.ts';
import { childEnv, firstJsonLine, startNode } from './processes.ts';
import type { BenchOptions } from './run.ts';

async function child(): Promise<void> {
  const seconds = Number(process.env['ARGON2_SECONDS'] ?? 3);
  const inFlight = Number(process.env['ARGON2_IN_FLIGHT'] ?? 8);
  const hash = await hashPassword('correct horse battery staple');
  await verifyPassword(hash, 'correct horse battery staple'); // warm
  const before = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  let verifications = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        await verifyPassword(hash, 'correct horse battery staple');
        verifications++;
      }
    }),
  );
  const used = process.cpuUsage(before);
  const cpuSeconds = (used.user + used.system) / 1e6;
  process.stdout.write(`${JSON.stringify({ verifications, cpuSeconds, perCore: verifications / cpuSeconds })}\n`);
}

export interface Argon2Rate {
  verifications: number;
  cpuSeconds: number;
  /** Verifications per CPU-second. */
  perCore: number;
}

export interface Argon2Ceiling extends Argon2Rate {
  /** Under the servers' allocator settings (src/config/allocator-settings.ts, the Dockerfile's). */
  serverAllocator: Argon2Rate;
  /** Under glibc's own defaults (each thread keeps its 19 MiB between hashes: no faults, more memory). */
  glibcDefaults: Argon2Rate;
}

/**
 * Runs the child on the server's core twice, under the servers' allocator settings and under glibc's
 * defaults, and takes the faster as the ceiling: the hash's own rate, not one an allocator setting
 * lowered. Both rates are returned.
 */
export async function measureArgon2Ceiling(options: BenchOptions, seconds: number): Promise<Argon2Ceiling> {
  const serverAllocator = await runChild(options, seconds, childEnv({}));
  const defaults = childEnv({});
  for (const key of Object.keys(defaults))
    if (key.startsWith('MALLOC_') || key === 'GLIBC_TUNABLES') delete defaults[key];
  const glibcDefaults = await runChild(options, seconds, defaults);
  const best = glibcDefaults.perCore > serverAllocator.perCore ? glibcDefaults : serverAllocator;
  return { ...best, serverAllocator, glibcDefaults };
}

async function runChild(options: BenchOptions, seconds: number, env: NodeJS.ProcessEnv): Promise<Argon2Rate> {
  const proc = startNode(
    'argon2 ceiling',
    ['build/scripts/bench/argon2-ceiling.js'],
    { ...env, ARGON2_SECONDS: String(seconds), ARGON2_IN_FLIGHT: String(options.loginConcurrency) },
    { core: options.serverCore },
  );
  try {
    return await firstJsonLine<Argon2Rate>(proc, (seconds + 30) * 1000);
  } finally {
    await proc.stop();
  }
}

if (process.argv[1]?.endsWith('argon2-ceiling.js')) await child();
