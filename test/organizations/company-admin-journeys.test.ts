import test from 'ava';
import { RelyingParty } from '../support/relying-party.ts';
import { STORES, type StoreKind } from '../support/stores.ts';
import { type InvitationWorld, invitationWorlds, PASSWORD } from './invitation-world.ts';

const invitationWorld = invitationWorlds(test);

const CRM = { clientId: 'crm', redirectUri: 'http://127.0.0.1:9/crm/cb' };

/** The invitation world, and a portal of its own that requires an organization (registered once per world). */
const portals = new Map<StoreKind, Promise<{ crm: RelyingParty }>>();
async function world(kind: StoreKind): Promise<InvitationWorld & { crm: RelyingParty }> {
  const w = await invitationWorld(kind);
  let registered = portals.get(kind);
  if (!registered) {
    registered = (async () => {
      const crm = await w.server.registerClient({
        clientId: CRM.clientId,
        name: 'CRM',
        redirectUris: [CRM.redirectUri],
        organization: 'required',
      });
      return { crm: await RelyingParty.discover(w.server.issuer, CRM.clientId, crm.client_secret, CRM.redirectUri) };
    })();
    portals.set(kind, registered);
  }
  return { ...w, ...(await registered) };
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] a sign-in at an organization's portal is recorded with its method and organization`,
    async (t) => {
      const w = await world(kind);
      const company = await w.company();
      const user = await w.server.users.create({ email: 'ana@acme.example', password: PASSWORD, emailVerified: true });
      await w.memberships.join({
        organizationId: company.row.id,
        userId: user.id,
        roles: ['member'],
        invitedBy: 'operator',
      });

      const { callback } = await w.crm.signIn(w.browser(), 'ana@acme.example', PASSWORD);
      t.true(callback.url.startsWith(CRM.redirectUri), callback.url);
      const events = w.server.umbral.insights.signInEvents;
      await events.flush();
      const rows = await w.server.umbral.storage.db.selectFrom('sign_in_events').selectAll().execute();
      t.is(rows.length, 1);
      t.like(rows[0], { user_id: user.id, organization_id: company.row.id, client_id: 'crm', method: 'password' });
      const last = await events.lastSignIns(company.row.id, [user.id]);
      t.deepEqual(last.get(user.id)?.methods, ['password']);
    },
  );
}
