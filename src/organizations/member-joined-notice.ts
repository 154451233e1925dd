import type { Kysely, Transaction } from 'kysely';
import { translator } from '../i18n/i18n.ts';
import { MailQueue } from '../notify/mail-queue.ts';
import type { Database } from '../storage/schema.ts';
import type { AcceptanceHook } from './invitations.ts';
import { organizationAdmins, portalName } from './organization-admins.ts';
import { ADMIN_ROLE, MEMBER_ROLE } from './roles.ts';

export const MEMBER_JOINED_TEMPLATE = 'organization-member-joined';

/**
 * The notice to an organization's admins that a collaborator accepted an invitation: queued in
 * the transaction that accepts it (InvitationRepository.accept holds the invitation's row and
 * moves it from pending to accepted once), so it is sent once or not at all. Each admin gets it
 * in their account's language; the one who joined is not told of themselves.
 */
export function memberJoinedNotice(settings: { issuer: string; productName: string }): AcceptanceHook {
  return async (trx: Transaction<Database>, accepted, userId) => {
    const member = await trx.selectFrom('users').select(['email', 'name']).where('id', '=', userId).executeTakeFirst();
    if (!member) return;
    const admins = (await organizationAdmins(trx, accepted.organization.id)).filter((a) => a.userId !== userId);
    if (!admins.length) return;
    const portal = await portalName(trx, accepted.organization.home_client_id, settings.productName);
    const queue = new MailQueue(trx as unknown as Kysely<Database>);
    for (const admin of admins) {
      const t = translator(admin.locale);
      await queue.add({
        to: admin.email,
        template: MEMBER_JOINED_TEMPLATE,
        locale: admin.locale,
        data: {
          company: accepted.organization.name,
          portal,
          member: member.name ?? member.email,
          memberEmail: member.email,
          roles: accepted.roles
            .map((role) => (role === ADMIN_ROLE || role === MEMBER_ROLE ? t(`email.organization.role.${role}`) : role))
            .join(', '),
          consoleUrl: `${settings.issuer}/org`,
        },
      });
    }
  };
}
