import test from 'ava';
import { ResourceStack } from '../../src/wiring/resource-stack.ts';

test('closes last opened first, each once, and hands each closer its own resource', async (t) => {
  const closed: string[] = [];
  const stack = new ResourceStack();
  const pool = stack.own('pool', { name: 'pool' }, (r) => closed.push(r.name));
  t.deepEqual(pool, { name: 'pool' }, 'own returns what it was given');
  stack.own('queue', { name: 'queue' }, async (r) => {
    await Promise.resolve();
    closed.push(r.name);
  });
  stack.defer('timer', () => closed.push('timer'));
  await Promise.all([stack.close(), stack.close()]);
  await stack.close();
  t.deepEqual(closed, ['timer', 'queue', 'pool']);
});

test('a closer that fails does not stop the others; the errors come together, named', async (t) => {
  const closed: string[] = [];
  const stack = new ResourceStack();
  stack.defer('storage', () => closed.push('storage'));
  stack.defer('redis', () => {
    throw new Error('connection reset');
  });
  stack.defer('mailer', () => closed.push('mailer'));
  stack.defer('webhooks', () => Promise.reject(new Error('worker stuck')));
  const error = await t.throwsAsync(stack.close(), { instanceOf: AggregateError });
  t.deepEqual(closed, ['mailer', 'storage'], 'every closer ran, in reverse order');
  t.deepEqual(
    error!.errors.map((e: Error) => e.message),
    ['closing webhooks failed: worker stuck', 'closing redis failed: connection reset'],
  );
  t.is((error!.errors[1] as Error).cause instanceof Error, true, 'the original error is kept as the cause');
  t.regex(error!.message, /webhooks.*redis/);
});

test('nothing can be registered once closing began (it would never be closed)', async (t) => {
  const stack = new ResourceStack();
  await stack.close();
  t.throws(() => stack.defer('late timer', () => undefined), { message: /late timer opened after close\(\) began/ });
});
