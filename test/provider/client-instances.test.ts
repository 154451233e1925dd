import test from 'ava';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import { rememberClientInstances } from '../../src/provider/client-instances.ts';

/** Registered clients as the client cache hands them out: one object per client until it changes. */
const registered = new Map<string, AdapterPayload>();
let adapterFinds = 0;

class ClientsOnly implements Adapter {
  constructor(readonly model: string) {}
  async find(id: string) {
    adapterFinds += 1;
    return this.model === 'Client' ? registered.get(id) : undefined;
  }
  async upsert() {}
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume() {}
  async destroy() {}
  async revokeByGrantId() {}
}

const portal = (redirect: string): AdapterPayload => ({
  client_id: 'portal',
  client_secret: 'a-secret-long-enough-for-this-test',
  redirect_uris: [redirect],
});

test.serial(
  'the same metadata object gives the same Client; a changed or removed client is looked up again',
  async (t) => {
    const provider = new Provider('http://localhost:3999', { adapter: ClientsOnly });
    rememberClientInstances(provider, async (id) => registered.get(id));
    registered.set('portal', portal('https://portal.example/cb'));

    const first = await provider.Client.find('portal');
    const findsAfterFirst = adapterFinds;
    const again = await provider.Client.find('portal');
    t.truthy(first);
    t.is(again, first, 'the Client built once is handed out again');
    t.is(adapterFinds, findsAfterFirst, "oidc-provider's own lookup (and its hash of the metadata) is skipped");

    registered.set('portal', portal('https://portal.example/changed'));
    const changed = await provider.Client.find('portal');
    t.not(changed, first);
    t.deepEqual(changed?.redirectUris, ['https://portal.example/changed']);

    registered.delete('portal');
    t.is(await provider.Client.find('portal'), undefined);
    t.is(await provider.Client.find(''), undefined);
  },
);
