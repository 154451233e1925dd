import type { Context } from 'koa';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Locale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';

/**
 * The language a person chose with the footer's switcher becomes their account's (users.locale),
 * which every email to them speaks: at once when the browser is signed in, else at its next
 * sign-in (or any authorization it makes while the choice stands).
 */
export class RememberedLanguage {
  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      provider: Provider;
      /** oidc-provider's session cookie (src/provider/configuration.ts cookieNames). */
      sessionCookie: string;
      logger: Logger;
    },
  ) {}

  /** The switch was used in this browser: its signed-in account, if any, keeps the language. */
  async chosen(ctx: Context, locale: Locale): Promise<void> {
    const sessionId = ctx.cookies.get(this.deps.sessionCookie, { signed: true });
    if (!sessionId) return;
    const session = await this.deps.provider.Session.find(sessionId);
    if (session?.accountId) await this.store(session.accountId, locale);
  }

  /** On every authorization by a browser that chose a language (`chosenLocale` of src/http/page-locale.ts). */
  recordAuthorizations(): void {
    this.deps.provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
      const accountId = ctx.oidc.session?.accountId;
      const locale = ctx.state['chosenLocale'] as Locale | undefined;
      if (!accountId || !locale) return;
      this.store(accountId, locale).catch((error: unknown) =>
        this.deps.logger.warn({ err: error }, 'could not remember the chosen language'),
      );
    });
  }

  async store(accountId: string, locale: Locale): Promise<void> {
    await this.deps.db
      .updateTable('users')
      .set({ locale })
      .where('id', '=', accountId)
      .where((eb) => eb('locale', 'is distinct from', locale))
      .execute();
  }
}
