import Router from '@koa/router';
import type { Context } from 'koa';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { formFields, readForm, seeOther } from '../http/form.ts';
import { translator } from '../i18n/i18n.ts';
import { jsonArray } from '../organizations/json-array.ts';
import { MAX_BATCH_INVITATIONS, type MemberAdministration } from '../organizations/member-administration.ts';
import type { RoleRepository } from '../organizations/roles.ts';
import type { Database } from '../storage/schema.ts';
import { isValidEmail } from '../users/email.ts';
import { type ConsoleAccess, visitOf } from './console-access.ts';
import { uploadOf } from './console-forms.ts';
import { type ConsolePages, refusalKey, roleLabel, roleOptions, shortInstant } from './console-pages.ts';
import { csvAddresses, type InvitationBatches, pastedAddresses } from './invitation-batches.ts';

const MAX_EMAIL_LENGTH = 254;
/** 500 addresses of 254 characters, with separators. */
const MAX_PASTED_LENGTH = MAX_BATCH_INVITATIONS * 256;

const rolesField = z.preprocess(
  (value) => (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []),
  z.array(z.string()),
);
const inviteForm = z.object({ email: formFields.trimmed(), roles: rolesField });
const batchForm = z.object({ emails: formFields.text(), roles: rolesField });

type Errors = Partial<Record<'email' | 'emails' | 'csv' | 'roles' | 'form', string>>;
interface Values {
  email: string;
  emails: string;
  roles: string[];
  batchRoles: string[];
}

/**
 * /org/invitations: invite one address with roles, or a batch (pasted, or a CSV uploaded with a
 * multipart form), and the pending invitations with their expiry, resend and revoke. A batch's
 * outcome (invited, already members, refused and why) is kept a day for the page its 303 leads to.
 */
export function invitationsRouter(deps: {
  db: Kysely<Database>;
  access: ConsoleAccess;
  pages: ConsolePages;
  roles: RoleRepository;
  admin: MemberAdministration;
  batches: InvitationBatches;
}): Router {
  const router = new Router({ prefix: '/org/invitations' });
  const guard = deps.access.require();
  const fresh: Values = { email: '', emails: '', roles: ['member'], batchRoles: ['member'] };

  async function show(ctx: Context, values: Values = fresh, errors: Errors = {}, status = 200) {
    const visit = visitOf(ctx);
    const locale = deps.pages.localeOf(ctx);
    const t = translator(locale);
    const pending = await deps.db
      .selectFrom('organization_invitations')
      .selectAll()
      .where('organization_id', '=', visit.organization.id)
      .where('status', '=', 'pending')
      .orderBy('expires_at')
      .orderBy('email')
      .execute();
    await deps.pages.render(
      ctx,
      'invitations',
      'org-invitations',
      {
        values,
        errors,
        roleOptions: roleOptions(t, await deps.roles.list()),
        maxBatch: MAX_BATCH_INVITATIONS,
        pending: pending.map((row) => ({
          id: row.id,
          email: row.email,
          roleLabels: jsonArray(row.roles).map((role) => roleLabel(t, role)),
          expiresText: shortInstant(new Date(row.expires_at), locale),
          expired: new Date(row.expires_at) <= visit.now,
          waiting: row.token_hash === null,
        })),
      },
      status,
    );
  }

  router.get('/', guard, async (ctx) => show(ctx));

  router.post('/', guard, async (ctx) => {
    const visit = visitOf(ctx);
    const t = translator(deps.pages.localeOf(ctx));
    const form = readForm(ctx, inviteForm);
    const values = { ...fresh, email: form.email.slice(0, MAX_EMAIL_LENGTH + 1), roles: form.roles.slice(0, 50) };
    const errors: Errors = {};
    if (!form.email) errors.email = t('org_console.invite.error.email_empty');
    else if (form.email.length > MAX_EMAIL_LENGTH)
      errors.email = t('org_console.invite.error.email_long', { max: MAX_EMAIL_LENGTH });
    else if (!isValidEmail(form.email)) errors.email = t('org_console.invite.error.email_invalid');
    if (!form.roles.length) errors.roles = t('org_console.roles.error.none');
    if (Object.keys(errors).length) return show(ctx, values, errors, 400);
    try {
      const { invitation, mailed } = await deps.admin.invite(visit.organization, {
        email: form.email,
        roles: form.roles,
        invitedBy: visit.account.user.id,
      });
      deps.pages.record(ctx, 'member_invited', {
        data: { invitationId: invitation.id, roles: jsonArray(invitation.roles), mailed },
      });
    } catch (error) {
      const key = refusalKey(error);
      const onEmail = key.endsWith('.malformed') || key.endsWith('.already_member');
      return show(ctx, values, onEmail ? { email: t(key) } : { form: t(key) }, 400);
    }
    seeOther(ctx, `/org/invitations${visit.orgQuery}&done=invited`);
  });

  router.post('/batch', guard, async (ctx) => {
    const visit = visitOf(ctx);
    const t = translator(deps.pages.localeOf(ctx));
    const form = readForm(ctx, batchForm);
    const values = { ...fresh, emails: form.emails.slice(0, MAX_PASTED_LENGTH), batchRoles: form.roles.slice(0, 50) };
    const errors: Errors = {};
    const upload = uploadOf(ctx, 'csv');
    let addresses = form.emails.length > MAX_PASTED_LENGTH ? [] : pastedAddresses(form.emails);
    if (form.emails.length > MAX_PASTED_LENGTH)
      errors.emails = t('org_console.batch.error.too_many', { max: MAX_BATCH_INVITATIONS });
    if (upload) {
      try {
        addresses = [...addresses, ...csvAddresses(upload.text)];
      } catch {
        errors.csv = t('org_console.batch.error.csv_unreadable', { name: upload.name });
      }
    }
    if (!errors.emails && !errors.csv) {
      if (!addresses.length) errors.emails = t('org_console.batch.error.empty');
      else if (addresses.length > MAX_BATCH_INVITATIONS)
        errors[upload ? 'csv' : 'emails'] = t('org_console.batch.error.too_many', { max: MAX_BATCH_INVITATIONS });
    }
    if (!form.roles.length) errors.roles = t('org_console.roles.error.none');
    if (Object.keys(errors).length) return show(ctx, values, errors, 400);
    try {
      const outcome = await deps.admin.inviteMany(visit.organization, {
        emails: addresses,
        roles: form.roles,
        invitedBy: visit.account.user.id,
      });
      for (const invited of outcome.invited) {
        deps.pages.record(ctx, 'member_invited', {
          data: { invitationId: invited.invitationId, roles: form.roles, batch: true },
        });
      }
      const id = await deps.batches.save(visit.organization.id, visit.account.user.id, outcome);
      seeOther(ctx, `/org/invitations/batches/${id}${visit.orgQuery}`);
    } catch (error) {
      return show(ctx, values, { form: t(refusalKey(error)) }, 400);
    }
  });

  router.get('/batches/:id', guard, async (ctx) => {
    const visit = visitOf(ctx);
    const outcome = await deps.batches.find(visit.organization.id, String(ctx.params['id']));
    if (!outcome) ctx.throw(404);
    await deps.pages.render(ctx, 'invitations', 'org-invitation-batch', { outcome });
  });

  router.post('/:id/resend', guard, async (ctx) => {
    const visit = visitOf(ctx);
    try {
      const invitation = await deps.admin.resend(visit.organization, String(ctx.params['id']));
      deps.pages.record(ctx, 'invitation_resent', { data: { invitationId: invitation.id } });
    } catch (error) {
      return show(ctx, fresh, { form: translator(deps.pages.localeOf(ctx))(refusalKey(error)) }, 409);
    }
    seeOther(ctx, `/org/invitations${visit.orgQuery}&done=resent`);
  });

  router.post('/:id/revoke', guard, async (ctx) => {
    const visit = visitOf(ctx);
    const row = await deps.admin.pendingInvitation(visit.organization.id, String(ctx.params['id']));
    if (row && (await deps.admin.revoke(visit.organization.id, row.email))) {
      deps.pages.record(ctx, 'invitation_revoked', { data: { invitationId: row.id } });
    }
    seeOther(ctx, `/org/invitations${visit.orgQuery}${row ? '&done=revoked' : ''}`);
  });

  return router;
}
