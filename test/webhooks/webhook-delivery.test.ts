import test from 'ava';
import * as oidc from 'openid-client';
import { Webhook } from 'standardwebhooks';
import { MAX_ATTEMPTS, retryDelayMs } from '../../src/webhooks/retry-schedule.ts';
import { linkIn, mailsTo, openAccount } from '../account/account-fixture.ts';
import { runUmbral } from '../cli/umbral-cli.ts';
import { resetServer } from '../support/empty-store.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, STORES, type StoreKind, type TestStore } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { worldsPerFile } from '../support/worlds-per-file.ts';
import { startWebhookReceiver } from './webhook-receiver.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const PASSWORD = 'correct horse battery';
// The receiver is on loopback; WEBHOOK_RETRY_BASE_SECONDS=1 makes the first retry due 1 s after a failure.
const ENV = { ALLOW_PRIVATE_NETWORK_FETCH: 'true', WEBHOOK_RETRY_BASE_SECONDS: '1' };
const OPERATOR = { actor: { kind: 'operator' as const, id: 'test' } };

interface World {
  store: TestStore;
  server: RunningUmbral;
  receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  /** Moves the clock every Umbral of this world reads (due retries follow it). */
  clock: { offsetMs: number };
  rp: RelyingParty;
  /** Admin API tokens: one with webhooks:write, one without. */
  tokens: { webhooks: string; clientsOnly: string };
}

const API = '/api/admin/v1';

async function adminToken(server: RunningUmbral, clientId: string, scopes: Array<'webhooks:write' | 'clients:read'>) {
  const client = await server.registerClient({
    clientId,
    grantTypes: ['client_credentials'],
    firstParty: false,
    adminScopes: scopes,
  });
  const config = await oidc.discovery(new URL(server.issuer), clientId, client.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  return (await oidc.clientCredentialsGrant(config, { resource: 'urn:umbral:admin' })).access_token;
}

async function call(w: World, method: string, path: string, token: string | undefined, body?: unknown, headers = {}) {
  const response = await fetch(`${w.server.issuer}${API}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: the test reads the answer's fields and asserts on them
  return { status: response.status, headers: response.headers, json: (text ? JSON.parse(text) : undefined) as any };
}

function start(store: TestStore, clock: { offsetMs: number }): Promise<RunningUmbral> {
  return startUmbral(store, ENV, { now: () => Date.now() + clock.offsetMs });
}

const world = worldsPerFile<StoreKind, World>(test, async (kind) => {
  const store = await createTestStore(kind);
  const clock = { offsetMs: 0 };
  const server = await start(store, clock);
  const client = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT], name: 'Portal' });
  const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
  const tokens = {
    webhooks: await adminToken(server, 'automation-hooks', ['webhooks:write']),
    clientsOnly: await adminToken(server, 'automation-ro', ['clients:read']),
  };
  const w: World = { store, server, receiver: await startWebhookReceiver(), clock, rp, tokens };
  return {
    world: w,
    async reset() {
      await w.server.umbral.webhooks.settled();
      await resetServer(w.server);
      w.receiver.reset();
      clock.offsetMs = 0;
    },
    async close() {
      await w.server.stop();
      await w.receiver.close();
      await store.cleanup();
    },
  };
});

async function endpointFor(w: World, events: string[]) {
  return w.server.umbral.webhooks.endpoints.create({ url: w.receiver.url, events }, OPERATOR);
}

for (const kind of STORES) {
  test.serial(`[${kind}] a password sign-in sends user.signed_in, signed with the endpoint's secret`, async (t) => {
    const w = await world(kind);
    const { endpoint, secret } = await endpointFor(w, ['user.signed_in']);
    t.regex(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const user = await w.server.users.create({ email: 'ana@example.com', password: PASSWORD, emailVerified: true });

    const { callback } = await w.rp.signIn(new HttpBrowser(), 'ana@example.com', PASSWORD);
    t.true(callback.url.startsWith(REDIRECT) || (callback.headers.get('location') ?? '').startsWith(REDIRECT));

    const [hook] = await w.receiver.waitFor(1);
    const payload = new Webhook(secret).verify(hook!.body, hook!.headers) as Record<string, unknown>;
    t.is(payload['type'], 'user.signed_in');
    t.regex(String(payload['timestamp']), /^\d{4}-\d\d-\d\dT/);
    t.deepEqual(payload['data'], { user_id: user.id, amr: ['pwd'], client_id: 'portal', organization_id: null });
    t.regex(hook!.headers['webhook-id']!, /^msg_[0-9a-f]{32}$/);
    t.is(hook!.headers['content-type'], 'application/json');
    t.false(hook!.body.includes(PASSWORD));
    t.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(hook!.body, hook!.headers), {
      message: /No matching signature/,
    });

    await w.server.umbral.webhooks.settled();
    const [delivery] = (await w.server.umbral.webhooks.endpoints.deliveries(endpoint.id)).deliveries;
    t.is(delivery!.id, hook!.headers['webhook-id']!);
    t.is(delivery!.status, 'delivered');
    t.deepEqual(
      delivery!.attempts.map((a) => [a.attempt, a.statusCode, a.error]),
      [[1, 204, null]],
    );
  });

  test.serial(`[${kind}] a self-service sign-up sends user.created`, async (t) => {
    const w = await world(kind);
    const { secret } = await endpointFor(w, ['user.created']);
    const browser = new HttpBrowser();
    const request = await w.rp.authorizationRequest({ prompt: 'create' });
    const page = await browser.open(request.url, REDIRECT);
    await browser.submit(page, '/signup', {
      name: 'Bea Díaz',
      email: 'bea@example.com',
      phone_country: 'MX',
      phone: '55 1234 5678',
      password: PASSWORD,
      password_confirmation: PASSWORD,
      terms: 'accepted',
    });
    const user = (await w.server.users.findByEmail('bea@example.com'))!;
    t.truthy(user, 'the account was made');
    const [hook] = await w.receiver.waitFor(1);
    t.deepEqual(new Webhook(secret).verify(hook!.body, hook!.headers), {
      type: 'user.created',
      timestamp: (JSON.parse(hook!.body) as { timestamp: string }).timestamp,
      data: { user_id: user.id, email: 'bea@example.com', name: 'Bea Díaz', email_verified: false, source: 'sign_up' },
    });
    t.false(hook!.body.includes(PASSWORD));
  });

  test.serial(`[${kind}] an email change confirmed on the account page sends user.email_changed`, async (t) => {
    const w = await world(kind);
    const { secret } = await endpointFor(w, ['user.email_changed']);
    const user = await w.server.users.create({ email: 'ana@example.com', password: PASSWORD, emailVerified: true });
    const browser = new HttpBrowser();
    const form = await openAccount(w.server, browser, '/account/email', 'ana@example.com', PASSWORD);
    await browser.submit(form, '/account/email', { email: 'ana.nueva@example.com' });
    const [mail] = await mailsTo(w.server, 'ana.nueva@example.com');
    const link = linkIn(mail!, w.server.issuer, '/account/email/confirm?token=');
    if (!link) return t.fail('no confirmation link in the mail');
    const confirmPage = await browser.open(link);
    await browser.submit(confirmPage, '/account/email/confirm', {});
    t.is((await w.server.users.findById(user.id))!.email, 'ana.nueva@example.com');
    await w.server.umbral.webhooks.worker.runOnce(); // queued in the change's transaction: the next poll, or this run
    const [hook] = await w.receiver.waitFor(1);
    t.like(new Webhook(secret).verify(hook!.body, hook!.headers), {
      type: 'user.email_changed',
      data: { user_id: user.id, email: 'ana.nueva@example.com', previous_email: 'ana@example.com' },
    });
  });

  test.serial(`[${kind}] an answer of 500 is retried when due, with the same webhook-id`, async (t) => {
    const w = await world(kind);
    const { endpoint, secret } = await endpointFor(w, ['user.created', 'org.member_added']);
    await endpointFor(w, ['org.ended']); // not subscribed: gets nothing
    w.receiver.answer(500);
    const created = {
      user_id: 'u1',
      email: 'ana@example.com',
      name: 'Ana',
      email_verified: true,
      source: 'operator' as const,
    };
    await w.server.umbral.webhooks.events.emit('user.created', created);

    const [first] = await w.receiver.waitFor(1);
    await w.server.umbral.webhooks.settled();
    let [delivery] = (await w.server.umbral.webhooks.endpoints.deliveries(endpoint.id)).deliveries;
    t.is(delivery!.status, 'pending');
    t.deepEqual(
      delivery!.attempts.map((a) => [a.statusCode, a.error]),
      [[500, null]],
    );
    t.is(delivery!.lastError, 'HTTP 500');
    // Not due before its time: a run now POSTs nothing.
    t.deepEqual(await w.server.umbral.webhooks.worker.runOnce(), { delivered: 0, retrying: 0, failed: 0 });
    t.is(w.receiver.received.length, 1);

    w.clock.offsetMs += 1000;
    await w.server.umbral.webhooks.worker.runOnce();
    const [, second] = await w.receiver.waitFor(2);
    t.is(second!.headers['webhook-id'], first!.headers['webhook-id']);
    t.is(second!.body, first!.body);
    t.deepEqual((new Webhook(secret).verify(second!.body, second!.headers) as { data: unknown }).data, created);
    await w.server.umbral.webhooks.settled();
    [delivery] = (await w.server.umbral.webhooks.endpoints.deliveries(endpoint.id)).deliveries;
    t.is(delivery!.status, 'delivered');
    t.deepEqual(
      delivery!.attempts.map((a) => a.statusCode),
      [500, 204],
    );
    t.is(w.receiver.received.length, 2, 'the endpoint not subscribed to user.created got nothing');
    t.deepEqual(await w.server.umbral.webhooks.stats(), { queued: 0, retrying: 0, failed: 0, oldestQueuedSeconds: 0 });
  });

  test.serial(`[${kind}] a delivery that keeps failing follows the schedule, then is given up`, async (t) => {
    const w = await world(kind);
    const { endpoint } = await endpointFor(w, ['user.deleted']);
    w.receiver.answer(...Array.from({ length: MAX_ATTEMPTS }, () => 503));
    await w.server.umbral.webhooks.events.emit('user.deleted', { user_id: 'u7' });
    await w.receiver.waitFor(1);
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt += 1) {
      await w.server.umbral.webhooks.settled();
      const [pending] = (await w.server.umbral.webhooks.endpoints.deliveries(endpoint.id)).deliveries;
      const last = pending!.attempts.at(-1)!;
      // WEBHOOK_RETRY_BASE_SECONDS=1: the delays of the default schedule, in seconds instead of tens.
      t.is(
        pending!.nextAttemptAt!.getTime() - last.at.getTime(),
        retryDelayMs(attempt, 1)!,
        `after attempt ${attempt}`,
      );
      w.clock.offsetMs = pending!.nextAttemptAt!.getTime() - Date.now() + 10;
      await w.server.umbral.webhooks.worker.runOnce();
      await w.receiver.waitFor(attempt + 1);
    }
    await w.server.umbral.webhooks.settled();
    const [given] = (await w.server.umbral.webhooks.endpoints.deliveries(endpoint.id)).deliveries;
    t.like(given, { status: 'failed', nextAttemptAt: null, lastError: 'HTTP 503' });
    t.is(given!.attempts.length, MAX_ATTEMPTS);
    t.is(new Set(w.receiver.received.map((hook) => hook.headers['webhook-id'])).size, 1, 'one webhook-id throughout');
    t.like(await w.server.umbral.webhooks.stats(), { queued: 0, failed: 1 });
  });

  test.serial(`[${kind}] an endpoint removed while its delivery is being POSTed leaves nothing behind`, async (t) => {
    const w = await world(kind);
    const { endpoint } = await endpointFor(w, ['user.deleted']);
    const release = w.receiver.hold();
    await w.server.umbral.webhooks.events.emit('user.deleted', { user_id: 'u9' });
    await w.receiver.waitFor(1);
    await w.server.umbral.webhooks.endpoints.remove(endpoint.id, OPERATOR);
    release();
    await w.server.umbral.webhooks.settled();
    const db = w.server.umbral.storage.db;
    t.deepEqual(await db.selectFrom('webhook_deliveries').selectAll().execute(), []);
    t.deepEqual(await db.selectFrom('webhook_attempts').selectAll().execute(), []);
  });

  test.serial(
    `[${kind}] an endpoint made through the Admin API gets signed events; its history is there too`,
    async (t) => {
      const w = await world(kind);
      const created = await call(w, 'POST', '/webhooks', w.tokens.webhooks, {
        url: w.receiver.url,
        events: ['org.activated'],
        description: 'CRM',
      });
      t.is(created.status, 201);
      const { endpoint, secret } = created.json as { endpoint: { id: string }; secret: string };
      t.regex(secret, /^whsec_/);
      t.is(created.headers.get('location'), `${API}/webhooks/${endpoint.id}`);
      const shown = await call(w, 'GET', `/webhooks/${endpoint.id}`, w.tokens.webhooks);
      t.is(shown.status, 200);
      t.like(shown.json, { id: endpoint.id, url: w.receiver.url, events: ['org.activated'], enabled: true });
      t.false(JSON.stringify(shown.json).includes('whsec_'), 'the secret is never shown again');
      const listed = await call(w, 'GET', '/webhooks?event_type=org.activated&enabled=true', w.tokens.webhooks);
      t.deepEqual(
        listed.json.items.map((e: { id: string }) => e.id),
        [endpoint.id],
      );

      await w.server.umbral.webhooks.events.emit('org.activated', {
        organization_id: 'o1',
        slug: 'acme',
        name: 'Acme',
      });
      const [hook] = await w.receiver.waitFor(1);
      t.like(new Webhook(secret).verify(hook!.body, hook!.headers), { type: 'org.activated', data: { slug: 'acme' } });
      await w.server.umbral.webhooks.settled();
      const history = await call(w, 'GET', `/webhooks/${endpoint.id}/deliveries`, w.tokens.webhooks);
      t.is(history.status, 200);
      t.like(history.json.items[0], {
        id: hook!.headers['webhook-id'],
        event_type: 'org.activated',
        status: 'delivered',
      });
      t.like(history.json.items[0].attempts[0], { attempt: 1, status_code: 204, error: null });

      const audit = (
        await w.server.umbral.audit.flush().then(() => w.server.umbral.audit.query({ type: 'webhook.endpoint_added' }))
      ).events;
      t.deepEqual(audit[0]?.actor, { kind: 'client', id: 'automation-hooks' });
    },
  );

  test.serial(
    `[${kind}] Admin API webhooks: bad input is problem+json and changes nothing; If-Match; the scope`,
    async (t) => {
      const w = await world(kind);
      const token = w.tokens.webhooks;
      const bad: Array<[unknown, string]> = [
        [{ url: 'ftp://hooks.example.com/x', events: ['user.created'] }, '/url'],
        [{ url: 'http://hooks.example.com/x', events: ['user.created'] }, '/url'],
        [{ url: 'https://hooks.example.com/x', events: ['user.exploded'] }, '/events/0'],
        [{ url: 'https://hooks.example.com/x', events: [] }, '/events'],
        [{ url: 'https://hooks.example.com/x', events: ['user.created'], secret: 'mine' }, ''],
      ];
      for (const [body, pointer] of bad) {
        const answer = await call(w, 'POST', '/webhooks', token, body);
        t.is(answer.status, 400, JSON.stringify(body));
        t.is(answer.headers.get('content-type'), 'application/problem+json');
        t.is(answer.json.type, 'urn:umbral:problem:validation');
        if (pointer) t.is(answer.json.errors[0].pointer, pointer, JSON.stringify(body));
      }
      t.is(
        (
          await call(w, 'POST', '/webhooks', undefined, {
            url: 'https://hooks.example.com/x',
            events: ['user.created'],
          })
        ).status,
        401,
      );
      const forbidden = await call(w, 'POST', '/webhooks', w.tokens.clientsOnly, {
        url: 'https://hooks.example.com/x',
        events: ['user.created'],
      });
      t.is(forbidden.status, 403);
      t.is((await call(w, 'GET', '/webhooks', w.tokens.clientsOnly)).status, 403);
      t.deepEqual((await call(w, 'GET', '/webhooks', token)).json.items, [], 'nothing was made');

      const body = { url: 'https://hooks.example.com/x', events: ['org.ended'], enabled: false };
      const made = await call(w, 'POST', '/webhooks', token, body, { 'idempotency-key': 'make-x' });
      const again = await call(w, 'POST', '/webhooks', token, body, { 'idempotency-key': 'make-x' });
      t.deepEqual([made.status, again.status], [201, 201]);
      t.deepEqual(again.json, made.json, 'the same key and body answer the first answer, secret included');
      t.is((await call(w, 'GET', '/webhooks', token)).json.items.length, 1, 'one endpoint, not two');
      const id = made.json.endpoint.id as string;
      const staleTag = made.headers.get('etag')!;
      const changed = await call(
        w,
        'PATCH',
        `/webhooks/${id}`,
        token,
        { events: ['org.ended', 'user.deleted'] },
        { 'if-match': staleTag },
      );
      t.is(changed.status, 200);
      t.deepEqual(changed.json.events, ['org.ended', 'user.deleted']);
      t.not(changed.headers.get('etag'), staleTag);
      const stale = await call(w, 'PATCH', `/webhooks/${id}`, token, { enabled: true }, { 'if-match': staleTag });
      t.is(stale.status, 412);
      t.is((await call(w, 'DELETE', `/webhooks/${id}`, token, undefined, { 'if-match': staleTag })).status, 412);
      const badPatch = await call(w, 'PATCH', `/webhooks/${id}`, token, { url: 'http://hooks.example.com/x' });
      t.is(badPatch.status, 400);
      t.like(await call(w, 'GET', `/webhooks/${id}`, token), {
        json: { enabled: false, url: 'https://hooks.example.com/x' },
      });
      t.is(
        (await call(w, 'DELETE', `/webhooks/${id}`, token, undefined, { 'if-match': changed.headers.get('etag')! }))
          .status,
        204,
      );
      t.is((await call(w, 'GET', `/webhooks/${id}`, token)).status, 404);
      t.is((await call(w, 'GET', `/webhooks/${id}/deliveries`, token)).status, 404);
    },
  );

  test.serial(`[${kind}] a company's contract sends org.activated, then org.ended when its end comes`, async (t) => {
    const w = await world(kind);
    const { secret } = await endpointFor(w, ['org.activated', 'org.ended']);
    const endsAt = new Date(Date.now() + 3600_000).toISOString();
    const added = await runUmbral(['orgs', 'add', '--name', 'Ends Co', '--ends-at', endsAt], { env: w.store.env });
    t.is(added.code, 0, added.stderr);
    const orgId = (JSON.parse(added.stdout) as { id: string }).id;
    await w.server.umbral.webhooks.worker.runOnce();
    await w.receiver.waitFor(1);
    w.clock.offsetMs += 2 * 3600_000;
    t.like(await w.server.umbral.contracts.runOnce(), { ended: 1 });
    await w.server.umbral.webhooks.worker.runOnce();
    const hooks = await w.receiver.waitFor(2);
    const data = { organization_id: orgId, slug: 'ends-co', name: 'Ends Co' };
    t.deepEqual(
      hooks
        .map((hook) => new Webhook(secret).verify(hook.body, hook.headers) as { type: string; data: unknown })
        .map((e) => [e.type, e.data]),
      [
        ['org.activated', data],
        ['org.ended', data],
      ],
    );
  });

  if (kind === 'postgres') {
    test.serial(`[${kind}] two processes on one database POST each delivery once`, async (t) => {
      const w = await world(kind);
      await endpointFor(w, ['user.signed_in']);
      const other = await start(w.store, w.clock);
      try {
        const data = { amr: ['pwd'], client_id: 'portal', organization_id: null };
        await w.server.umbral.storage.db.transaction().execute(async (trx) => {
          for (let i = 0; i < 25; i += 1)
            await w.server.umbral.webhooks.events.emit('user.signed_in', { user_id: `u${i}`, ...data }, trx);
        });
        await Promise.all([w.server.umbral.webhooks.worker.runOnce(), other.umbral.webhooks.worker.runOnce()]);
        await w.receiver.waitFor(25);
        await Promise.all([w.server.umbral.webhooks.settled(), other.umbral.webhooks.settled()]);
        const ids = w.receiver.received.map((hook) => hook.headers['webhook-id']);
        t.is(ids.length, 25);
        t.is(new Set(ids).size, 25, 'no delivery was POSTed twice');
        t.like(await w.server.umbral.webhooks.stats(), { queued: 0, failed: 0 });
      } finally {
        await other.stop();
      }
    });
  }

  test.serial(`[${kind}] a delivery still queued when Umbral stops is delivered by the next start`, async (t) => {
    const w = await world(kind);
    const { secret } = await endpointFor(w, ['org.member_added']);
    w.receiver.answer(500);
    await w.server.umbral.webhooks.events.emit('org.member_added', {
      organization_id: 'o1',
      user_id: 'u1',
      roles: ['member'],
    });
    const [first] = await w.receiver.waitFor(1);
    await w.server.umbral.webhooks.settled();
    t.like(await w.server.umbral.webhooks.stats(), { queued: 1, retrying: 1, failed: 0 });

    // Last test of the world: the portal's RP keeps the first server's issuer.
    await w.server.stop();
    w.server = await start(w.store, w.clock);
    w.clock.offsetMs += 1000;
    await w.server.umbral.webhooks.worker.runOnce();
    const [, second] = await w.receiver.waitFor(2);
    t.is(second!.headers['webhook-id'], first!.headers['webhook-id']);
    t.is((new Webhook(secret).verify(second!.body, second!.headers) as { type: string }).type, 'org.member_added');
    await w.server.umbral.webhooks.settled();
    t.like(await w.server.umbral.webhooks.stats(), { queued: 0, failed: 0 });
  });
}
