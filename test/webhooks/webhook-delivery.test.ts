import test from 'ava';
import { Webhook } from 'standardwebhooks';
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
  const w: World = { store, server, receiver: await startWebhookReceiver(), clock, rp };
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
    const [delivery] = await w.server.umbral.webhooks.endpoints.deliveries(endpoint.id);
    t.is(delivery!.id, hook!.headers['webhook-id']!);
    t.is(delivery!.status, 'delivered');
    t.deepEqual(
      delivery!.attempts.map((a) => [a.attempt, a.statusCode, a.error]),
      [[1, 204, null]],
    );
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
    let [delivery] = await w.server.umbral.webhooks.endpoints.deliveries(endpoint.id);
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
    [delivery] = await w.server.umbral.webhooks.endpoints.deliveries(endpoint.id);
    t.is(delivery!.status, 'delivered');
    t.deepEqual(
      delivery!.attempts.map((a) => a.statusCode),
      [500, 204],
    );
    t.is(w.receiver.received.length, 2, 'the endpoint not subscribed to user.created got nothing');
    t.deepEqual(await w.server.umbral.webhooks.stats(), { queued: 0, retrying: 0, failed: 0, oldestQueuedSeconds: 0 });
  });

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
