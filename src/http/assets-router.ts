import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { viewsPath } from '../config/project-root.ts';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Serves views/assets (stylesheet, logo): a fixed set read once, so no path ever reaches the disk. */
export function assetsRouter(): Router {
  const dir = viewsPath('assets');
  const files = new Map(
    fs
      .readdirSync(dir)
      .filter((name) => TYPES[path.extname(name)])
      .map((name) => [name, fs.readFileSync(path.join(dir, name))]),
  );
  const router = new Router();
  router.get('/assets/:name', (ctx) => {
    const body = files.get(ctx.params['name'] ?? '');
    if (!body) return;
    ctx.type = TYPES[path.extname(ctx.params['name']!)]!;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = body;
  });
  return router;
}
