import { createHash } from 'node:crypto';
import { Problem } from './problem.ts';

/** A strong ETag for an object's stored state: any change to it changes the tag. */
export function etagOf(state: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(state)).digest('base64url').slice(0, 27)}"`;
}

/**
 * `If-Match` on an update: absent, the update goes ahead (last writer wins, as the client chose);
 * present, it must name the current tag (or be `*`), else 412 and nothing changes.
 */
export function checkIfMatch(ifMatch: string | undefined, current: string): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (tags.includes('*') || tags.includes(current)) return;
  throw new Problem(
    'precondition_failed',
    'the object changed since it was read: read it again (its ETag) and re-apply the change',
  );
}

/**
 * The version an If-Match names, for services that compare versions themselves (`"v"` or
 * `W/"v"`); none, or `*`, means any version.
 */
export function versionInIfMatch(ifMatch: string | undefined): string | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  return ifMatch
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}
