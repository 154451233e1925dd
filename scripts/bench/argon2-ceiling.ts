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

export interface Argon2Ceiling {
  verifications: number;
  cpuSeconds: number;
  /** Verifications per CPU-second: the most logins one fully used core could do. */
  perCore: number;
}

/** Runs the child on the server's core and returns its figures. */
export async function measureArgon2Ceiling(options: BenchOptions, seconds: number): Promise<Argon2Ceiling> {
  const proc = startNode(
    'argon2 ceiling',
    ['build/scripts/bench/argon2-ceiling.js'],
    childEnv({ ARGON2_SECONDS: String(seconds), ARGON2_IN_FLIGHT: String(options.loginConcurrency) }),
    { core: options.serverCore },
  );
  try {
    return await firstJsonLine<Argon2Ceiling>(proc, (seconds + 30) * 1000);
  } finally {
    await proc.stop();
  }
}

if (process.argv[1]?.endsWith('argon2-ceiling.js')) await child();
