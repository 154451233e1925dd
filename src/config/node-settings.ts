import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * How one node runs beside others (HOST, WEB_CONCURRENCY, METRICS_*, the key reload, the pool),
 * read by src/config/config.ts. Apart from it so the scale-out settings stay in one place.
 */
export interface NodeSettings {
  /** The address the HTTP server binds (HOST); unset: every interface, as Node's default. */
  host: string | undefined;
  /** Worker processes sharing the port (node:cluster); 1 runs the server in this process. */
  webConcurrency: number;
  /** Bearer token that opens /metrics on the main port; unset: /metrics is not served there. */
  metricsToken: string | undefined;
  /** A port of its own for /metrics (no token: keep it off the public network). */
  metricsPort: number | undefined;
  /** How often each node reloads the signing keys from the database (a rotation reaches every node within it). */
  keyReloadSeconds: number;
  /** PostgreSQL connections of this process's pool. */
  databasePoolSize: number;
}

export type NodeSettingsProblem = { variable: string; message: string };

const whole = (min: number, max: number, what: string) =>
  z.coerce
    .number({ error: `must be a whole number ${what} from ${min} to ${max}` })
    .int(`must be a whole number ${what} from ${min} to ${max}`)
    .min(min, `must be a whole number ${what} from ${min} to ${max}`)
    .max(max, `must be a whole number ${what} from ${min} to ${max}`);

const schema = z.object({
  HOST: z
    .string()
    .refine((v) => isIP(v.replace(/^\[(.*)\]$/, '$1')) !== 0 || /^[a-z0-9.-]{1,253}$/i.test(v), {
      error: 'must be an IP address (0.0.0.0, 127.0.0.1, ::) or a host name',
    })
    .optional(),
  WEB_CONCURRENCY: whole(1, 64, 'of processes').default(1),
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters (openssl rand -hex 16)')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  METRICS_PORT: whole(1, 65535, '').optional(),
  KEY_RELOAD_INTERVAL_SECONDS: whole(1, 3600, 'of seconds').default(30),
  DATABASE_POOL_SIZE: whole(1, 200, 'of connections').default(10),
});

export function readNodeSettings(env: Record<string, string>, port: number): NodeSettings | NodeSettingsProblem {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { variable: String(issue.path[0] ?? 'environment'), message: issue.message };
  }
  const v = parsed.data;
  if (v.METRICS_PORT === port) return { variable: 'METRICS_PORT', message: 'must differ from PORT' };
  return {
    host: v.HOST?.replace(/^\[(.*)\]$/, '$1'),
    webConcurrency: v.WEB_CONCURRENCY,
    metricsToken: v.METRICS_TOKEN,
    metricsPort: v.METRICS_PORT,
    keyReloadSeconds: v.KEY_RELOAD_INTERVAL_SECONDS,
    databasePoolSize: v.DATABASE_POOL_SIZE,
  };
}
