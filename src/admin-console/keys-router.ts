import Router from '@koa/router';
import type { Context } from 'koa';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { SecretBox } from '../crypto/secret-box.ts';
import { formFields, readForm, seeOther } from '../http/form.ts';
import { RETIRED_KEY_PUBLISH_SECONDS } from '../provider/configuration.ts';
import { addCookieKey } from '../provider/cookie-keys.ts';
import { rotateSigningKeys } from '../provider/signing-keys.ts';
import type { Database } from '../storage/schema.ts';
import type { ConsoleKit } from './console-pages.ts';

const PATH = '/admin/keys';
const rotateForm = z.object({ confirm: formFields.checkbox() });

/**
 * /admin/keys: the published signing keys (never their private parts) and their rotation, as
 * `umbral keys rotate` and the Admin API's POST /signing-keys/rotations do it: a new key per
 * algorithm and a cookie key; the retired keys stay published long enough for the tokens they
 * signed. After a fresh sign-in, and with the consequence ticked as understood.
 */
export function keysRouter(
  kit: ConsoleKit,
  deps: { db: Kysely<Database>; secretBox: SecretBox; now: () => number },
): Router {
  const router = new Router({ prefix: PATH });
  router.use(kit.guard);

  const published = () =>
    deps.db
      .selectFrom('signing_keys')
      .select(['kid', 'alg', 'created_at', 'retired_at', 'unpublish_at'])
      .where((eb) => eb.or([eb('unpublish_at', 'is', null), eb('unpublish_at', '>', new Date(deps.now()))]))
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute();

  const show = async (ctx: Context, unconfirmed = false) =>
    kit.render(
      ctx,
      'keys',
      'admin-keys',
      {
        keys: await published(),
        rotated: ctx.query['rotated'] === '1',
        unconfirmed,
        publishHours: Math.round(RETIRED_KEY_PUBLISH_SECONDS / 3600),
      },
      unconfirmed ? 400 : 200,
    );

  router.get('/', (ctx) => show(ctx));

  router.post('/rotate', kit.fresh, async (ctx) => {
    if (!readForm(ctx, rotateForm).confirm) return show(ctx, true);
    const result = await rotateSigningKeys(deps.db, deps.secretBox, RETIRED_KEY_PUBLISH_SECONDS);
    await addCookieKey(deps.db);
    kit.record(ctx, 'keys.rotated', { data: result });
    seeOther(ctx, `${PATH}?rotated=1`);
  });
  return router;
}
