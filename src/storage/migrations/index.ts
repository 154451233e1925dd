import type { Migration } from 'kysely';
import * as core from './0001-core.ts';
import * as accountLifecycle from './0002-account-lifecycle.ts';

/** Every migration, in order. Names are permanent: never rename one that has shipped. */
export const migrations: Record<string, Migration> = {
  '0001-core': core,
  '0002-account-lifecycle': accountLifecycle,
};
