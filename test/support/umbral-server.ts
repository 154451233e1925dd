import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createUmbral, type Umbral, type UmbralOptions } from '../../src/app.ts';
import { type ClientRegistration, ClientRegistry, type RegisteredClient } from '../../src/clients/client-registry.ts';
import type { Config } from '../../src/config/config.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { UserRepository } from '../../src/users/users.ts';
import { usePooledSigningKeys } from './signing-key-pool.ts';
import { type TestStore, testConfig } from './stores.ts';

export interface RunningUmbral {
  issuer: string;
  config: Config;
  umbral: Umbral;
  users: UserRepository;
  clients: ClientRegistry;
  registerClient(input: Partial<ClientRegistration> & { clientId: string }): Promise<RegisteredClient>;
  stop(): Promise<void>;
}

/**
 * Umbral on a random loopback port. The port is bound first, so ISSUER can name it,
 * then the app's handler is attached (Koa composes middleware at callback()).
 */
export async function startUmbral(
  store: TestStore,
  env: Record<string, string> = {},
  options: UmbralOptions = {},
): Promise<RunningUmbral> {
  usePooledSigningKeys();
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(Number(env['PORT'] ?? 0), '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://localhost:${port}`;
  const config = testConfig(store, { ISSUER: issuer, PORT: String(port), ...env });
  let umbral: Umbral;
  try {
    umbral = await createUmbral(config, createLogger(config.logLevel), options);
  } catch (error) {
    server.close(); // else the bound port keeps the test process alive
    throw error;
  }
  server.on('request', umbral.app.callback());
  const clients = new ClientRegistry(umbral.storage.db, umbral.provider);
  return {
    issuer,
    config,
    umbral,
    users: new UserRepository(umbral.storage.db),
    clients,
    registerClient: (input) =>
      clients.register({
        redirectUris: [],
        postLogoutRedirectUris: [],
        grantTypes: ['authorization_code', 'refresh_token'],
        firstParty: true,
        public: false,
        ...input,
      }),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await umbral.close();
    },
  };
}
