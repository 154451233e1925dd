import type { Migration } from 'kysely';
import * as core from './0001-core.ts';
import * as accountLifecycle from './0002-account-lifecycle.ts';
import * as mail from './0003-mail.ts';
import * as signup from './0004-signup.ts';
import * as sessions from './0005-sessions.ts';
import * as mfa from './0006-mfa.ts';
import * as federation from './0007-federation.ts';
import * as accountTokenHashes from './0008-account-token-hashes.ts';
import * as loginLockouts from './0009-login-lockouts.ts';
import * as refreshRotation from './0010-refresh-rotation.ts';
import * as organizations from './0011-organizations.ts';
import * as organizationGrants from './0012-organization-grants.ts';
import * as companyData from './0013-company-data.ts';
import * as auditEvents from './0014-audit-events.ts';
import * as signInEvents from './0015-sign-in-events.ts';
import * as invitationBatches from './0016-invitation-batches.ts';
import * as adminApi from './0017-admin-api.ts';
import * as userAdministration from './0018-user-administration.ts';
import * as hostedPages from './0020-hosted-pages.ts';
import * as webhooks from './0021-webhooks.ts';
import * as operators from './0022-operators.ts';
import * as signInRollups from './0023-sign-in-rollups.ts';

/** Every migration, in order. Names are permanent: never rename one that has shipped. */
export const migrations: Record<string, Migration> = {
  '0001-core': core,
  '0002-account-lifecycle': accountLifecycle,
  '0003-mail': mail,
  '0004-signup': signup,
  '0005-sessions': sessions,
  '0006-mfa': mfa,
  '0007-federation': federation,
  '0008-account-token-hashes': accountTokenHashes,
  '0009-login-lockouts': loginLockouts,
  '0010-refresh-rotation': refreshRotation,
  '0011-organizations': organizations,
  '0012-organization-grants': organizationGrants,
  '0013-company-data': companyData,
  '0014-audit-events': auditEvents,
  '0015-sign-in-events': signInEvents,
  '0016-invitation-batches': invitationBatches,
  '0017-admin-api': adminApi,
  '0018-user-administration': userAdministration,
  '0020-hosted-pages': hostedPages,
  '0021-webhooks': webhooks,
  '0022-operators': operators,
  '0023-sign-in-rollups': signInRollups,
};
