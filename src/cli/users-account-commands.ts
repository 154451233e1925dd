import type { ActiveSession } from '../sessions/session-directory.ts';
import { CliUsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { withUserAdministration } from './cli-user-administration.ts';
import { parseOptions } from './command-options.ts';
import { printJson } from './print.ts';

export const USER_ACCOUNT_OPTIONS = { email: { type: 'string', required: true } } as const;

export const USER_SESSIONS_OPTIONS = {
  email: { type: 'string', required: true },
  end: { type: 'boolean' },
  session: { type: 'string' },
} as const;

/**
 * `umbral users disable|enable|remove|sessions|reset-mfa|send-password-reset --email E`: what
 * an operator does to one account, through the users' service (audited with the operator as
 * actor; sessions ended with back-channel logout to their portals before the command exits).
 */
export async function runUserAccountCommand(
  action: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  io: CliIo,
): Promise<void> {
  const command = `users ${action}`;
  if (action === 'sessions') return sessions(args, env, io);
  const { email } = parseOptions(command, args, USER_ACCOUNT_OPTIONS);
  await withUserAdministration(env, io, async ({ users, origin }) => {
    const ref = { email };
    switch (action) {
      case 'disable': {
        const { user, changed, sessionsEnded } = await users.disable(ref, origin);
        return printJson(io, { email: user.email, disabled: true, changed, sessions_ended: sessionsEnded });
      }
      case 'enable': {
        const { user, changed } = await users.enable(ref, origin);
        return printJson(io, { email: user.email, disabled: false, changed });
      }
      case 'remove': {
        const removed = await users.remove(ref, origin);
        return printJson(io, {
          email: removed.user.email,
          removed: true,
          sessions_ended: removed.sessionsEnded,
          tokens_revoked: removed.tokensRevoked,
          memberships_removed: removed.memberships,
        });
      }
      case 'reset-mfa': {
        const { user, factorsRemoved } = await users.resetFactors(ref, origin);
        return printJson(io, { email: user.email, factors_removed: factorsRemoved });
      }
      case 'send-password-reset': {
        const user = await users.sendPasswordReset(ref, origin);
        return printJson(io, { email: user.email, reset_link_sent: true });
      }
      default:
        throw new CliUsageError(`unknown command "${command}"`);
    }
  });
}

/** Lists the user's sessions; `--end` ends them all, `--end --session UID` that one. */
async function sessions(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('users sessions', args, USER_SESSIONS_OPTIONS);
  if (options.session !== undefined && !options.end) throw new CliUsageError('--session goes with --end');
  await withUserAdministration(env, io, async ({ users, origin }) => {
    const ref = { email: options.email };
    if (options.end) {
      const ended = await users.endSessions(ref, origin, options.session);
      return printJson(io, { email: options.email.trim(), sessions_ended: ended });
    }
    printJson(io, (await users.sessions(ref)).map(visibleSession));
  });
}

function visibleSession(session: ActiveSession) {
  return {
    uid: session.uid,
    browser: session.browser ?? null,
    os: session.os ?? null,
    ip: session.ip ?? null,
    signed_in_at: session.signedInAt ?? null,
    last_seen_at: session.lastSeenAt ?? null,
    portals: session.portals,
  };
}
