import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { type AccountAccess, RECENT_SIGN_IN_SECONDS, type SignedInAccount } from '../account/account-access.ts';
import { type AuditTrail, originOf } from '../audit/audit-event.ts';
import { formFields, readForm, seeOther } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { Logger } from '../logging/logger.ts';
import { type FederatedIdentities, providerOf } from './federated-identities.ts';

export interface IdentitiesRouterDependencies {
  pages: PageRenderer;
  access: AccountAccess;
  identities: FederatedIdentities;
  logger: Logger;
  /** Whether the user can sign in with a passkey alone (src/mfa): then no link is their last way in. */
  hasPasskey(userId: string): Promise<boolean>;
  /** Links removed are recorded here. */
  audit?: AuditTrail | undefined;
}

/** The unlink button's form: which linked account (one of this user's, or nothing is removed). */
const unlinkForm = z.object({ identity: formFields.text() });

/**
 * /account/identities: the Google and Microsoft accounts linked to this one. A link can be removed
 * after a recent sign-in, and only while another way to sign in remains (a password, a passkey,
 * or another linked account), so nobody locks themselves out.
 */
export function identitiesRouter(deps: IdentitiesRouterDependencies): Router {
  const router = new Router({ prefix: '/account/identities' });
  const recent = deps.access.require({ recentSeconds: RECENT_SIGN_IN_SECONDS });

  async function canUnlink(account: SignedInAccount, linked: number): Promise<boolean> {
    return !!account.user.password_hash || linked > 1 || (await deps.hasPasskey(account.user.id));
  }

  async function show(ctx: Context, notice?: string, status = 200) {
    const account = ctx.state['account'] as SignedInAccount;
    const rows = await deps.identities.listForUser(account.user.id);
    const identities = rows.map((row) => ({
      id: row.id,
      provider: providerOf(row),
      email: row.email,
      linkedAt: row.created_at,
      lastUsedAt: row.last_login_at,
    }));
    await deps.pages.render(
      ctx,
      'account-identities',
      { identities, unlinkable: await canUnlink(account, rows.length), notice },
      status,
    );
  }

  router.get('/', deps.access.require(), async (ctx) =>
    show(ctx, ctx.query['unlinked'] === '1' ? 'unlinked' : undefined),
  );

  router.post('/unlink', recent, async (ctx) => {
    const account = ctx.state['account'] as SignedInAccount;
    const linked = await deps.identities.listForUser(account.user.id);
    if (!(await canUnlink(account, linked.length))) return show(ctx, 'last_way_in', 409);
    const { identity } = readForm(ctx, unlinkForm);
    const removed = await deps.identities.unlink(account.user.id, identity);
    if (removed) {
      deps.logger.info({ event: 'federation.unlinked', accountId: account.user.id }, 'upstream account unlinked');
      const row = linked.find((r) => r.id === identity);
      deps.audit?.record({
        type: 'federation.unlinked',
        actor: { kind: 'user', id: account.user.id },
        subjectUserId: account.user.id,
        ...originOf(ctx),
        data: { provider: row ? providerOf(row) : 'unknown' },
      });
    }
    seeOther(ctx, removed ? '/account/identities?unlinked=1' : '/account/identities');
  });

  return router;
}
