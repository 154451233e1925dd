import { RETIRED_KEY_PUBLISH_SECONDS } from '../provider/configuration.ts';
import { addCookieKey } from '../provider/cookie-keys.ts';
import { rotateSigningKeys } from '../provider/signing-keys.ts';
import type { RegisterRoutes } from './admin-api.ts';
import { z } from './zod.ts';

const SigningKeySchema = z
  .object({
    kid: z.string(),
    alg: z.string(),
    created_at: z.string(),
    retired_at: z.string().nullable().openapi({ description: 'Null while it signs.' }),
    unpublish_at: z.string().nullable().openapi({ description: 'When a retired key leaves the JWKS.' }),
  })
  .openapi('SigningKey');

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** Signing keys (what `umbral keys rotate` does): listed without private parts, and rotated. */
export const registerKeysRoutes: RegisterRoutes = (api, options) => {
  const list = async () => {
    const rows = await options.db
      .selectFrom('signing_keys')
      .select(['kid', 'alg', 'created_at', 'retired_at', 'unpublish_at'])
      .where((eb) => eb.or([eb('unpublish_at', 'is', null), eb('unpublish_at', '>', new Date(options.now()))]))
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute();
    return rows.map((row) => ({
      kid: row.kid,
      alg: row.alg,
      created_at: iso(row.created_at)!,
      retired_at: iso(row.retired_at),
      unpublish_at: iso(row.unpublish_at),
    }));
  };

  api.route({
    method: 'get',
    path: '/signing-keys',
    operationId: 'listSigningKeys',
    summary: 'Published signing keys: active and retired',
    tag: 'Signing keys',
    scope: 'keys:write',
    responses: { 200: { description: 'Newest first.', schema: z.object({ items: z.array(SigningKeySchema) }) } },
    handler: async () => ({ status: 200, body: { items: await list() } }),
  });

  api.route({
    method: 'post',
    path: '/signing-keys/rotations',
    operationId: 'rotateSigningKeys',
    summary: 'Rotate the signing keys (and add a cookie key)',
    description: `A new key per algorithm; the current ones retire and stay published ${Math.round(RETIRED_KEY_PUBLISH_SECONDS / 3600)} hours.`,
    tag: 'Signing keys',
    scope: 'keys:write',
    responses: {
      201: {
        description: 'The keys added and retired, and the published keys now.',
        schema: z.object({
          added: z.array(z.string()),
          retired: z.array(z.string()),
          items: z.array(SigningKeySchema),
        }),
      },
    },
    handler: async (request) => {
      const result = await rotateSigningKeys(options.db, options.secretBox, RETIRED_KEY_PUBLISH_SECONDS);
      await addCookieKey(options.db);
      options.audit.record({ type: 'keys.rotated', actor: request.actor, ...request.origin, data: result });
      return { status: 201, body: { ...result, items: await list() } };
    },
  });
};
