import type Provider from 'oidc-provider';

type ClientInstance = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/**
 * oidc-provider keeps the Client it builds from a registered client's metadata under a SHA-256 of
 * that metadata's JSON, which it computes again on every lookup: a JSON.stringify and a hash per
 * token request. The adapter hands out one metadata object for as long as the client cache holds
 * it (adapters/postgres-adapter.ts), so the Client is remembered here by that object. A changed or
 * removed client is dropped from the cache on every node (src/storage/change-notices.ts) and comes
 * back as another object, or none, which goes through oidc-provider's own lookup again.
 */
export function rememberClientInstances(
  provider: Provider,
  metadataOf: (clientId: string) => Promise<object | undefined>,
): void {
  const Client = provider.Client;
  const byMetadata = new WeakMap<object, ClientInstance>();
  const find = Client.find.bind(Client);
  Client.find = async function findRemembered(id: string) {
    const metadata = typeof id === 'string' && id ? await metadataOf(id) : undefined;
    const known = metadata && byMetadata.get(metadata);
    if (known) return known;
    const client = await find(id);
    if (client && metadata) byMetadata.set(metadata, client);
    return client;
  } as typeof Client.find;
}
