import Router from '@koa/router';
import type { PageRenderer } from './page-renderer.ts';

/** The two documents sign-up links to by default (TERMS_URL, PRIVACY_URL), by their paths. */
export const LEGAL_DOCUMENTS = {
  '/legal/terms': { document: 'terms', setting: 'TERMS_URL' },
  '/legal/privacy': { document: 'privacy', setting: 'PRIVACY_URL' },
} as const;

/**
 * GET /legal/terms and /legal/privacy: placeholders in the person's language saying the operator
 * has not published the document yet, and how to (point the setting at their own page).
 */
export function legalRouter(pages: PageRenderer): Router {
  const router = new Router();
  for (const [path, { document, setting }] of Object.entries(LEGAL_DOCUMENTS)) {
    router.get(path, (ctx) => pages.render(ctx, 'legal', { document, setting }));
  }
  return router;
}
