import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { USAGE } from '../../src/cli/usage.ts';
import {
  WEBHOOK_ADD_OPTIONS,
  WEBHOOK_DELIVERIES_OPTIONS,
  WEBHOOK_UPDATE_OPTIONS,
} from '../../src/cli/webhooks-commands.ts';
import { SecretBox } from '../../src/crypto/secret-box.ts';
import { loadSecretEncryptionKey } from '../../src/crypto/secret-key.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { endpointSecretContext } from '../../src/webhooks/endpoint-secret.ts';
import { MAX_ATTEMPTS, retryDelayMs } from '../../src/webhooks/retry-schedule.ts';
import { queuedWebhookEvents } from '../../src/webhooks/webhook-event-queue.ts';
import { WebhookQueue } from '../../src/webhooks/webhook-queue.ts';
import { httpTransport } from '../../src/webhooks/webhook-transport.ts';
import { inStore, ownStderr, runUmbral, storesPerFile } from '../cli/umbral-cli.ts';
import { STORES, type TestStore, testConfig } from '../support/stores.ts';
import { startWebhookReceiver } from './webhook-receiver.ts';

const stores = storesPerFile(test);
const ALLOW = { ALLOW_PRIVATE_NETWORK_FETCH: 'true' };

test('the usage names the webhooks commands and their options', (t) => {
  for (const options of [WEBHOOK_ADD_OPTIONS, WEBHOOK_UPDATE_OPTIONS, WEBHOOK_DELIVERIES_OPTIONS])
    for (const name of Object.keys(options)) t.true(USAGE.includes(`--${name}`), name);
  for (const command of ['add', 'list', 'update', 'remove', 'deliveries'])
    t.true(USAGE.includes(`umbral webhooks ${command}`), command);
});

test('the retry schedule: first retry within 30 s, the last about 24 h after the first attempt', (t) => {
  t.true(retryDelayMs(1, 10)! <= 30_000);
  let total = 0;
  for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt += 1) total += retryDelayMs(attempt, 10)!;
  t.true(total > 23 * 3600_000 && total <= 24 * 3600_000, `${total / 3600_000} h`);
  t.is(retryDelayMs(MAX_ATTEMPTS, 10), undefined, 'then it is given up');
  t.is(retryDelayMs(1, 1), 1000, 'WEBHOOK_RETRY_BASE_SECONDS scales it');
});

test('an attempt without an answer is abandoned after the timeout, as an error', async (t) => {
  const held: http.ServerResponse[] = [];
  const silent = http.createServer((_req, res) => void held.push(res));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = silent.address() as AddressInfo;
    const outcome = await httpTransport({ allowPrivateNetwork: true, timeoutMs: 200 })({
      url: `http://127.0.0.1:${port}/slow`,
      headers: {},
      body: '{}',
    });
    t.deepEqual([outcome.statusCode, outcome.error], [null, 'no answer within 0.2 s']);
    t.true(outcome.durationMs >= 190 && outcome.durationMs < 2000, String(outcome.durationMs));
  } finally {
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

test('without ALLOW_PRIVATE_NETWORK_FETCH a delivery does not reach a loopback address, by IP or by name', async (t) => {
  const receiver = await startWebhookReceiver();
  try {
    const post = httpTransport({ allowPrivateNetwork: false });
    const port = new URL(receiver.url).port;
    const byIp = await post({ url: receiver.url, headers: {}, body: '{}' });
    t.is(byIp.statusCode, null);
    t.regex(byIp.error!, /127\.0\.0\.1 is a private or special-use address/);
    const byName = await post({ url: `http://localhost:${port}/hooks`, headers: {}, body: '{}' });
    t.is(byName.statusCode, null);
    t.regex(byName.error!, /localhost resolves to a private or special-use address/);
    t.is(receiver.received.length, 0);
    const allowed = await httpTransport({ allowPrivateNetwork: true })({ url: receiver.url, headers: {}, body: '{}' });
    t.is(allowed.statusCode, 204, 'the same receiver is reached with the flag');
  } finally {
    await receiver.close();
  }
});

function webhookRows(store: TestStore) {
  return inStore(store, async (db) => ({
    endpoints: await db.selectFrom('webhook_endpoints').selectAll().execute(),
    audit: await db
      .selectFrom('audit_events')
      .selectAll()
      .where('type', 'like', 'webhook.%')
      .orderBy('occurred_at')
      .execute(),
  }));
}

for (const kind of STORES) {
  const store = () => stores.get(kind)!;

  test.serial(
    `[${kind}] webhooks add shows the secret once, sealed in the store; update, list, remove are audited`,
    async (t) => {
      const env = { ...store().env, ...ALLOW, USER: 'ops-ana' };
      const added = await runUmbral(
        ['webhooks', 'add', '--url', 'http://127.0.0.1:8099/hook?token=abc', '--events', 'user.signed_in,user.created'],
        { env },
      );
      t.is(added.code, 0, added.stderr);
      const endpoint = JSON.parse(added.stdout) as { id: string; secret: string; events: string[]; enabled: boolean };
      t.regex(endpoint.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      t.deepEqual(endpoint.events, ['user.created', 'user.signed_in']);
      t.true(endpoint.enabled);
      t.regex(ownStderr(added), /the secret is shown this once/);

      const { endpoints } = await webhookRows(store());
      t.is(endpoints.length, 1);
      t.false(endpoints[0]!.secret_sealed.includes(endpoint.secret.slice(6)), 'not stored as given');
      const box = new SecretBox(loadSecretEncryptionKey(testConfig(store()), createLogger('silent')));
      t.is(box.open(endpoints[0]!.secret_sealed, endpointSecretContext(endpoint.id)), endpoint.secret);

      const updated = await runUmbral(
        ['webhooks', 'update', '--id', endpoint.id, '--disable', '--events', 'org.ended'],
        {
          env,
        },
      );
      t.is(updated.code, 0, updated.stderr);
      t.like(JSON.parse(updated.stdout), { enabled: false, events: ['org.ended'] });
      const listed = await runUmbral(['webhooks', 'list'], { env });
      t.is(listed.code, 0, listed.stderr);
      t.false(listed.stdout.includes('whsec_'), 'the list shows no secret');
      t.like(JSON.parse(listed.stdout), [{ id: endpoint.id, enabled: false }]);

      const history = await runUmbral(['webhooks', 'deliveries', '--id', endpoint.id], { env });
      t.is(history.code, 0, history.stderr);
      t.deepEqual(JSON.parse(history.stdout), []);

      const removed = await runUmbral(['webhooks', 'remove', '--id', endpoint.id], { env });
      t.is(removed.code, 0, removed.stderr);
      const after = await webhookRows(store());
      t.deepEqual(after.endpoints, []);
      t.deepEqual(
        after.audit.map((e) => [e.type, e.actor_kind, e.actor_id]),
        [
          ['webhook.endpoint_added', 'operator', 'ops-ana'],
          ['webhook.endpoint_updated', 'operator', 'ops-ana'],
          ['webhook.endpoint_removed', 'operator', 'ops-ana'],
        ],
      );
      const added0 = after.audit[0]!.data as { endpoint: { url: string } };
      t.is(added0.endpoint.url, 'http://127.0.0.1:8099/hook', 'the audit log keeps the URL without its query');
      t.false(JSON.stringify(after.audit).includes('whsec_'));
    },
  );

  test.serial(`[${kind}] webhooks deliveries lists an endpoint's queued deliveries`, async (t) => {
    const env = { ...store().env, ...ALLOW };
    const added = await runUmbral(
      ['webhooks', 'add', '--url', 'https://hooks.example.com/u', '--events', 'org.ended'],
      {
        env,
      },
    );
    const { id } = JSON.parse(added.stdout) as { id: string };
    const queued = await inStore(store(), (db) =>
      new WebhookQueue(db, Date.now).enqueue('org.ended', { organization_id: 'o1', slug: 'acme', name: 'Acme' }),
    );
    t.is(queued, 1);
    const history = await runUmbral(['webhooks', 'deliveries', '--id', id, '--limit', '10'], { env });
    t.is(history.code, 0, history.stderr);
    t.like(JSON.parse(history.stdout), [{ eventType: 'org.ended', status: 'pending', attempts: [] }]);
    await runUmbral(['webhooks', 'remove', '--id', id], { env });
  });

  test.serial(
    `[${kind}] orgs add of a company active now queues org.activated for a subscribed endpoint`,
    async (t) => {
      const env = { ...store().env, ...ALLOW };
      const added = await runUmbral(
        ['webhooks', 'add', '--url', 'https://hooks.example.com/e', '--events', 'user.created,org.activated'],
        { env },
      );
      const { id } = JSON.parse(added.stdout) as { id: string };
      const org = await runUmbral(['orgs', 'add', '--name', 'Acme Webhooks'], { env });
      t.is(org.code, 0, org.stderr);
      const orgId = (JSON.parse(org.stdout) as { id: string }).id;
      const later = await runUmbral(['orgs', 'add', '--name', 'Later Co', '--activates-at', '2099-01-01T00:00:00Z'], {
        env,
      });
      t.is(later.code, 0, later.stderr);

      const payloads = await inStore(store(), (db) =>
        db.selectFrom('webhook_deliveries').select('payload').where('endpoint_id', '=', id).execute(),
      );
      t.deepEqual(
        payloads.map((row) => JSON.parse(row.payload) as { type: string; data: unknown }).map((e) => [e.type, e.data]),
        [['org.activated', { organization_id: orgId, slug: 'acme-webhooks', name: 'Acme Webhooks' }]],
        'a company scheduled for later is not active yet',
      );
      await runUmbral(['webhooks', 'remove', '--id', id], { env });
    },
  );

  test.serial(
    `[${kind}] joining a company queues org.member_added once; orgs remove-member queues org.member_removed`,
    async (t) => {
      const env = { ...store().env, ...ALLOW };
      const added = await runUmbral(
        ['webhooks', 'add', '--url', 'https://hooks.example.com/m', '--events', 'org.member_added,org.member_removed'],
        { env },
      );
      const { id } = JSON.parse(added.stdout) as { id: string };
      await runUmbral(['users', 'add', '--email', 'caro@example.com', '--password', 'a long passphrase 43'], { env });
      await runUmbral(['orgs', 'add', '--name', 'Members Co', '--admin', 'boss@example.com'], { env });
      const { userId, orgId } = await inStore(store(), async (db) => {
        const user = await db
          .selectFrom('users')
          .select('id')
          .where('email', '=', 'caro@example.com')
          .executeTakeFirstOrThrow();
        const org = await db
          .selectFrom('organizations')
          .select('id')
          .where('slug', '=', 'members-co')
          .executeTakeFirstOrThrow();
        const memberships = new MembershipRepository(db, queuedWebhookEvents(db, createLogger('silent')));
        const join = { organizationId: org.id, userId: user.id, roles: ['member'], invitedBy: null };
        await memberships.join(join);
        await memberships.join(join); // already a member: not "added" again
        return { userId: user.id, orgId: org.id };
      });
      const removed = await runUmbral(['orgs', 'remove-member', '--org', 'members-co', '--email', 'caro@example.com'], {
        env,
      });
      t.is(removed.code, 0, removed.stderr);
      const events = await inStore(store(), (db) =>
        db
          .selectFrom('webhook_deliveries')
          .select('payload')
          .where('endpoint_id', '=', id)
          .orderBy('created_at')
          .execute(),
      );
      t.deepEqual(
        events.map((row) => JSON.parse(row.payload) as { type: string; data: unknown }).map((e) => [e.type, e.data]),
        [
          ['org.member_added', { organization_id: orgId, user_id: userId, roles: ['member'] }],
          ['org.member_removed', { organization_id: orgId, user_id: userId }],
        ],
      );
      await runUmbral(['webhooks', 'remove', '--id', id], { env });
    },
  );

  test.serial(`[${kind}] bad input to webhooks gets a clear error and changes nothing`, async (t) => {
    const before = await webhookRows(store());
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['add', '--url', 'not a url', '--events', 'user.created'], ALLOW, /--url must be an https:\/\/ URL/],
      [['add', '--url', 'ftp://hooks.example.com/x', '--events', 'user.created'], ALLOW, /--url must be an https/],
      [['add', '--url', 'http://hooks.example.com/x', '--events', 'user.created'], ALLOW, /--url must be https:\/\//],
      [
        ['add', '--url', 'https://hooks.example.com/x', '--events', 'user.created,user.exploded'],
        ALLOW,
        /--events has unknown event type "user.exploded"; known: user.created, user.signed_in/,
      ],
      [['add', '--url', 'https://hooks.example.com/x', '--events', ','], ALLOW, /--events must name at least one/],
      [
        ['add', '--url', 'https://10.1.2.3/hook', '--events', 'user.created'],
        {},
        /--url 10\.1\.2\.3 is a private or special-use address \(set ALLOW_PRIVATE_NETWORK_FETCH/,
      ],
      [
        ['add', '--url', 'http://127.0.0.1:8099/hook', '--events', 'user.created'],
        {},
        /--url may be http:\/\/ to a loopback host only when ALLOW_PRIVATE_NETWORK_FETCH is set/,
      ],
      [
        ['add', '--url', 'https://user:pw@hooks.example.com/x', '--events', 'user.created'],
        ALLOW,
        /user name or password/,
      ],
      [['remove', '--id', 'ep_nope'], ALLOW, /no webhook endpoint has the id ep_nope/],
      [['deliveries', '--id', 'ep_nope'], ALLOW, /no webhook endpoint has the id ep_nope/],
      [['deliveries', '--id', 'ep_nope', '--limit', '0'], ALLOW, /--limit must be a whole number from 1 to 500/],
    ];
    for (const [args, extra, message] of cases) {
      const result = await runUmbral(['webhooks', ...args], { env: { ...store().env, ...extra } });
      t.is(result.code, 1, args.join(' '));
      t.is(result.stdout, '', args.join(' '));
      t.regex(ownStderr(result), message, args.join(' '));
    }
    const usage = await runUmbral(['webhooks', 'add', '--url', 'https://hooks.example.com/x'], { env: store().env });
    t.is(usage.code, 2);
    t.regex(usage.stderr, /"webhooks add" needs --events/);
    t.deepEqual(await webhookRows(store()), before);
    t.deepEqual(before.endpoints, []);
  });
}
