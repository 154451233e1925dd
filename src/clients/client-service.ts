import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import type { AuditActor, AuditOrigin, AuditTrail } from '../audit/audit-event.ts';
import type { Database } from '../storage/schema.ts';
import {
  authMethodOf,
  ClientInputError,
  type ClientRegistration,
  checkRegistration,
  registrationMetadata,
  registrationOf,
} from './client-registration.ts';
import { type ClientListFilter, ClientRegistry, type StoredClient } from './client-registry.ts';
import { generateClientSecret, hashClientSecret } from './client-secret.ts';
import {
  DEFAULT_KEEP_OLD_SECONDS,
  MAX_KEEP_OLD_SECONDS,
  rotatedSecretMetadata,
  type SecretListing,
  secretListing,
  withoutSecretHashes,
} from './client-secret-rotation.ts';

/** A client as shown (CLI, Admin API, console): its metadata without secrets, its secrets' dates, a version tag. */
export interface ClientView {
  metadata: Record<string, unknown>;
  secrets: SecretListing[];
  createdAt: Date;
  updatedAt: Date;
  /** The stored state's version: the Admin API's ETag, If-Match on updates. */
  version: string;
}

/** Who changes a client, for the audit log. */
export interface ClientChangeContext {
  actor: AuditActor;
  origin?: AuditOrigin | undefined;
  /** The CLI command, when an operator ran one. */
  command?: string | undefined;
  /**
   * Checks the caller may change this client (before, and after the change when there is one),
   * inside the change's transaction; throws to change nothing. The Admin API's scope ceiling.
   */
  authorize?: ((before: Record<string, unknown>, after?: Record<string, unknown>) => void) | undefined;
}

/** A change: each field given replaces the stored one; `null` removes an optional one. */
export type ClientChanges = {
  [K in Exclude<keyof ClientRegistration, 'clientId' | 'clientSecret'>]?: ClientRegistration[K] | null;
};

export class ClientNotFoundError extends Error {
  constructor(clientId: string) {
    super(`no client with id ${clientId}`);
    this.name = 'ClientNotFoundError';
  }
}

/** The object changed since the version the caller read (If-Match). */
export class ClientVersionMismatchError extends Error {
  constructor() {
    super('the client changed since it was read');
    this.name = 'ClientVersionMismatchError';
  }
}

/**
 * Portals' management, one layer under the CLI, the Admin API and the console: the same checks
 * (client-registration.ts, then oidc-provider's), the same errors (ClientInputError naming the
 * field, ClientNotFoundError, ClientVersionMismatchError), every change audited with its actor
 * and a before/after summary without secrets, and oidc-provider's client cache told at once.
 */
export class ClientService {
  private readonly registry: ClientRegistry;
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      provider: Provider;
      audit: AuditTrail;
      now?: (() => number) | undefined;
    },
  ) {
    this.now = deps.now ?? Date.now;
    this.registry = new ClientRegistry(deps.db, deps.provider, this.now);
  }

  /** Registers a portal; its secret (when it has one) is in the answer only: shown once. */
  async create(
    input: ClientRegistration,
    change: ClientChangeContext,
  ): Promise<{ client: ClientView; secret?: string }> {
    const registered = await this.registry.register(input);
    const stored = await this.registry.find(input.clientId);
    if (!stored) throw new ClientNotFoundError(input.clientId);
    this.forget(input.clientId); // the cache also remembers unknown ids for a few seconds
    this.record('client.added', input.clientId, change, { after: summary(stored.metadata) });
    return {
      client: this.view(stored),
      ...(typeof registered.client_secret === 'string' ? { secret: registered.client_secret } : {}),
    };
  }

  async get(clientId: string): Promise<ClientView> {
    const stored = await this.registry.find(clientId);
    if (!stored) throw new ClientNotFoundError(clientId);
    return this.view(stored);
  }

  /** A page by client id; `next` is the last id when more follow. */
  async list(filter: ClientListFilter): Promise<{ clients: ClientView[]; next?: string }> {
    const rows = await this.registry.page(filter);
    const clients = rows.slice(0, filter.limit).map((row) => this.view(row));
    const last = clients.at(-1);
    return rows.length > filter.limit && last ? { clients, next: String(last.metadata['client_id']) } : { clients };
  }

  /** Applies `changes`; with `expectedVersion`, only if the client is still at that version. */
  async update(
    clientId: string,
    changes: ClientChanges,
    change: ClientChangeContext & { expectedVersion?: string | undefined },
  ): Promise<ClientView> {
    const result = await this.registry.replace(clientId, async (current) => {
      this.checkVersion(current, change.expectedVersion);
      const before = registrationOf(current.metadata);
      const next = applyChanges(before, changes);
      if (authMethodOf(next) !== authMethodOf(before)) {
        throw new ClientInputError(
          `a client's authentication cannot change (it is ${authMethodOf(before)}): register a new client instead`,
          changes.public !== undefined ? 'public' : 'jwks',
        );
      }
      checkRegistration(next, []);
      const metadata = registrationMetadata(next, secretMembers(current.metadata));
      change.authorize?.(current.metadata, metadata);
      await this.registry.validate(metadata);
      return metadata;
    });
    if (!result) throw new ClientNotFoundError(clientId);
    this.forget(clientId);
    this.record('client.updated', clientId, change, difference(result.before.metadata, result.after.metadata));
    return this.view(result.after);
  }

  /**
   * A new secret, shown once; the current one keeps working for `keepOldForSeconds` (7 days by
   * default, 0 to stop it now), listed with its expiry. Only for clients that authenticate with a secret.
   */
  async rotateSecret(
    clientId: string,
    options: { keepOldForSeconds?: number | undefined },
    change: ClientChangeContext & { expectedVersion?: string | undefined },
  ): Promise<{ client: ClientView; secret: string }> {
    const keep = options.keepOldForSeconds ?? DEFAULT_KEEP_OLD_SECONDS;
    if (!Number.isInteger(keep) || keep < 0 || keep > MAX_KEEP_OLD_SECONDS) {
      throw new ClientInputError(
        `the old secret can be kept from 0 seconds to ${MAX_KEEP_OLD_SECONDS / 86_400} days`,
        'keep_old_for_seconds',
      );
    }
    const secret = generateClientSecret();
    const result = await this.registry.replace(clientId, async (current) => {
      this.checkVersion(current, change.expectedVersion);
      change.authorize?.(current.metadata);
      if (typeof current.metadata['client_secret'] !== 'string') {
        throw new ClientInputError(
          `client ${clientId} has no secret to rotate (it is ${String(current.metadata['token_endpoint_auth_method'])})`,
        );
      }
      return {
        ...current.metadata,
        ...rotatedSecretMetadata(current.metadata, hashClientSecret(secret), this.now(), keep),
      };
    });
    if (!result) throw new ClientNotFoundError(clientId);
    this.forget(clientId);
    this.record('client.secret_rotated', clientId, change, { keepOldForSeconds: keep });
    return { client: this.view(result.after), secret };
  }

  /** Removes the client with its tokens, codes and grants. */
  async remove(
    clientId: string,
    change: ClientChangeContext & { expectedVersion?: string | undefined },
  ): Promise<void> {
    const current = await this.registry.find(clientId);
    if (!current) throw new ClientNotFoundError(clientId);
    this.checkVersion(current, change.expectedVersion);
    change.authorize?.(current.metadata);
    if (!(await this.registry.remove(clientId))) throw new ClientNotFoundError(clientId);
    this.forget(clientId);
    this.record('client.removed', clientId, change, { before: summary(current.metadata) });
  }

  private view(stored: StoredClient): ClientView {
    return {
      metadata: withoutSecretHashes(stored.metadata),
      secrets: secretListing(stored.metadata, this.now()),
      createdAt: stored.createdAt,
      updatedAt: stored.updatedAt,
      version: clientVersion(stored),
    };
  }

  private checkVersion(current: StoredClient, expected: string | undefined): void {
    if (expected !== undefined && expected !== clientVersion(current)) throw new ClientVersionMismatchError();
  }

  /** oidc-provider's client cache (the adapter's) drops the client: the next request reads it again. */
  private forget(clientId: string): void {
    // The CLI reads and removes without a provider: the server's cache lets go within seconds (CLIENT_CACHE_SECONDS).
    const model = this.deps.provider?.Client as unknown as
      | { adapter: { forgetClient?: (id: string) => void } }
      | undefined;
    model?.adapter.forgetClient?.(clientId);
  }

  private record(type: string, clientId: string, change: ClientChangeContext, data: Record<string, unknown>): void {
    this.deps.audit.record({
      type,
      actor: change.actor,
      ...change.origin,
      data: { ...(change.command ? { command: change.command } : {}), clientId, ...data },
    });
  }
}

/** A client as the CLI prints it and the Admin API answers it: snake_case metadata, secrets' dates, times. */
export function clientAsJson(client: ClientView): Record<string, unknown> {
  return {
    ...client.metadata,
    secrets: client.secrets.map((s) => ({ status: s.status, created_at: s.createdAt, expires_at: s.expiresAt })),
    created_at: client.createdAt.toISOString(),
    updated_at: client.updatedAt.toISOString(),
  };
}

/** The version of a stored client: its updated time and metadata, hashed (src/admin-api/etag.ts quotes it). */
export function clientVersion(stored: StoredClient): string {
  return createHash('sha256')
    .update(JSON.stringify([stored.updatedAt.toISOString(), stored.metadata]))
    .digest('base64url')
    .slice(0, 27);
}

const SECRET_MEMBERS = ['client_secret', 'secret_created_at', 'previous_secrets'];

function secretMembers(metadata: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(SECRET_MEMBERS.filter((key) => key in metadata).map((key) => [key, metadata[key]]));
}

function applyChanges(current: ClientRegistration, changes: ClientChanges): ClientRegistration {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    next[key] = value === null ? undefined : value;
  }
  return next as unknown as ClientRegistration;
}

/** What the audit log keeps of a client: its metadata without secrets. */
function summary(metadata: Record<string, unknown>): Record<string, unknown> {
  const { jwks: _keys, ...rest } = withoutSecretHashes(metadata);
  return rest;
}

/** The members that changed, before and after. */
function difference(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const was = summary(before);
  const is = summary(after);
  const changed = [...new Set([...Object.keys(was), ...Object.keys(is)])].filter(
    (key) => JSON.stringify(was[key]) !== JSON.stringify(is[key]),
  );
  return {
    before: Object.fromEntries(changed.map((key) => [key, was[key] ?? null])),
    after: Object.fromEntries(changed.map((key) => [key, is[key] ?? null])),
  };
}
