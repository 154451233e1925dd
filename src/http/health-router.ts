import Router from '@koa/router';
import { sql } from 'kysely';
import type { Storage } from '../storage/database.ts';
import { migrations } from '../storage/migrations/index.ts';

/**
 * GET /healthz: the process is alive and serving (no database round trip, so a database outage
 * does not get every node restarted). GET /readyz: this node can serve: the database answers and
 * every migration this code knows is applied (a node of a newer release waits for `umbral migrate`).
 */
export function healthRouter(storage: Storage): Router {
  const router = new Router();
  const expected = Object.keys(migrations);
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok', database: storage.kind };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      const { rows } = await sql<{ name: string }>`select name from umbral_migrations`.execute(storage.db);
      const applied = new Set(rows.map((r) => r.name));
      const pending = expected.filter((name) => !applied.has(name));
      if (pending.length) {
        ctx.status = 503;
        ctx.body = { status: 'migrations_pending', database: storage.kind, pending };
        return;
      }
      ctx.body = { status: 'ready', database: storage.kind };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'database_unavailable', database: storage.kind };
    }
  });
  return router;
}
