import { ClientInputError } from '../clients/client-registration.ts';
import { ClientNotFoundError, ClientService } from '../clients/client-service.ts';
import { type CliContext, withCliContext } from './cli-context.ts';
import { CliInputError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { withOperatorTrail } from './operator-trail.ts';

/**
 * Runs `work` with the client service (src/clients/client-service.ts, as the Admin API), its
 * changes audited with the operator as actor; its rejections become the CLI's input errors.
 */
export async function withClientService<T>(
  env: NodeJS.ProcessEnv,
  io: CliIo,
  work: (service: ClientService, change: { actor: { kind: 'operator'; id: string } }) => Promise<T>,
  options: { provider?: boolean } = {},
): Promise<T> {
  return withCliContext(env, (context: CliContext) =>
    withOperatorTrail(context, env, io, async (audit, actor) => {
      // Loading oidc-provider costs time; only commands that validate metadata need it.
      const provider = options.provider === false ? (undefined as never) : await context.provider();
      const service = new ClientService({ db: context.storage.db, provider, audit });
      try {
        return await work(service, { actor: actor as { kind: 'operator'; id: string } });
      } catch (error) {
        if (error instanceof ClientInputError || error instanceof ClientNotFoundError) {
          throw new CliInputError(error.message);
        }
        throw error;
      }
    }),
  );
}
