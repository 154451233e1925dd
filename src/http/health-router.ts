import Router from '@koa/router';
import { sql } from 'kysely';
import type { Storage } from '../storage/database.ts';

/** GET /healthz: 200 when the database answers, 503 otherwise. */
export function healthRouter(storage: Storage): Router {
  const router = new Router();
  router.get('/healthz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      await sql`select 1`.execute(storage.db);
      ctx.body = { status: 'ok', database: storage.kind };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', database: storage.kind };
    }
  });
  return router;
}
