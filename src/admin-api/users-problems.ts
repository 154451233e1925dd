import { type AdministrativeOrigin, type AdminUser, UserAdministrationError, versionOf } from '../users/admin-user.ts';
import type { AdminRequest } from './admin-route-spec.ts';
import { Problem } from './problem.ts';

/** What the users' routes share: who asks (the calling client, through the API), and the service's refusals as problems. */
export function adminOrigin(request: AdminRequest<unknown, unknown, unknown>): AdministrativeOrigin {
  return { actor: request.actor, via: 'api', ...request.origin };
}

/** The service's refusals as problems; a field at fault is named where the request carried it. */
export async function asProblem<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof UserAdministrationError)) throw error;
    if (error.problem === 'not_found') throw new Problem('not_found', error.message);
    if (error.problem === 'conflict') throw new Problem('conflict', error.message);
    if (error.problem === 'stale') throw new Problem('precondition_failed', error.message);
    if (!error.field) throw new Problem('validation', error.message);
    const field = error.field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const where = ['query', 'limit', 'cursor'].includes(field) ? 'query' : field === 'session' ? 'path' : 'body';
    throw Problem.field(where, `/${field}`, error.message);
  }
}

export const etag = (user: Pick<AdminUser, 'updated_at'>) => `"${versionOf(user)}"`;
