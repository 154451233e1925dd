import Router from '@koa/router';
import type { Context } from 'koa';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { formFields, readForm, seeOther } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { formatInstant, preferredLocale, translator } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import { maskPhone } from '../mfa/sms/sms-sender.ts';
import { enqueueQuietly, type Mailer } from '../notify/mailer.ts';
import type { Database } from '../storage/schema.ts';
import { MAX_NAME_LENGTH, nameProblem, normalizeName } from '../users/person-name.ts';
import { countryOptions, defaultCountry, isCountryCode, parsePhone, storedPhoneFields } from '../users/phone.ts';
import { isTimeZone, personTimeZone, timeZones } from '../users/time-zone.ts';
import { UserRepository } from '../users/users.ts';
import { type AccountAccess, RECENT_SIGN_IN_SECONDS, type SignedInAccount } from './account-access.ts';
import type { AccountSignIn } from './account-sign-in.ts';

/** A part of the account page owned by another capability (second factors, linked identities). */
export interface AccountSection {
  href: string;
  /** Message keys of the section's title and one-line description. */
  titleKey: string;
  descriptionKey: string;
}

/** One of the person's organizations, with their roles in it (src/organizations, passed in by app.ts). */
export interface AccountOrganization {
  name: string;
  /** Ended contracts are not listed; scheduled and suspended ones say so. */
  status: 'active' | 'scheduled' | 'suspended';
  activatesAt: Date;
  /** A built-in role comes with the message key of its label; any other is shown by its name. */
  roles: Array<{ name: string; labelKey?: string | undefined }>;
  /** Where its admins manage it (the company console), for those who may. */
  consoleHref?: string | undefined;
}

/** The organizations the account page lists. */
export interface AccountOrganizations {
  of(userId: string): Promise<AccountOrganization[]>;
}

export interface AccountRouterDependencies {
  config: Config;
  db: Kysely<Database>;
  pages: PageRenderer;
  access: AccountAccess;
  signIn: AccountSignIn;
  logger: Logger;
  mailer: Mailer;
  sections: AccountSection[];
  organizations: AccountOrganizations;
}

type ProfileErrors = Partial<Record<'name' | 'phone', string>>;

const SAVED = ['profile', 'password', 'email'] as const;

/** /account: the signed-in person's profile (name, phone) and the way to every other part. */
const profileForm = z.object({
  name: formFields.text().transform(normalizeName),
  phone: formFields.text().transform((phone) => phone.trim().slice(0, 40)),
  phone_country: formFields.text(),
  time_zone: formFields.text(),
});

export function accountRouter(deps: AccountRouterDependencies): Router {
  const users = new UserRepository(deps.db);
  const router = new Router({ prefix: '/account' });

  async function show(
    ctx: Context,
    values?: { name: string; phone: string; phoneCountry: string; timeZone?: string },
    errors: ProfileErrors = {},
    status = 200,
  ) {
    const { user } = ctx.state['account'] as SignedInAccount;
    const locale = deps.pages.localeOf(ctx);
    const saved = SAVED.find((s) => s === ctx.query['saved']);
    const t = translator(locale);
    const organizations = (await deps.organizations.of(user.id)).map((org) => ({
      name: org.name,
      status:
        org.status === 'scheduled'
          ? t('organizations.account.status.scheduled', { date: formatInstant(org.activatesAt, locale) })
          : org.status === 'suspended'
            ? t('organizations.account.status.suspended')
            : undefined,
      roles: org.roles.map((role) => (role.labelKey ? t(role.labelKey) : role.name)),
      consoleHref: org.consoleHref,
    }));
    await deps.pages.render(
      ctx,
      'account',
      {
        user,
        values: {
          ...(values ?? { name: user.name ?? '', ...storedPhoneFields(user.phone, defaultCountry(locale)) }),
          timeZone: values?.timeZone ?? personTimeZone(user.time_zone, ctx.get('accept-language')),
        },
        timeZones: timeZones(),
        errors,
        countries: countryOptions(locale),
        saved,
        sections: deps.sections,
        organizations,
        hasPassword: !!user.password_hash,
      },
      status,
    );
  }

  router.get('/callback', async (ctx) => {
    const outcome = await deps.signIn.callback(ctx);
    if (outcome.kind === 'signed_in') return seeOther(ctx, outcome.returnTo);
    deps.logger.info(
      { event: 'account.signin_incomplete', outcome: outcome.kind },
      'account page sign-in did not complete',
    );
    await deps.pages.render(
      ctx,
      'account-signin-incomplete',
      { kind: outcome.kind },
      outcome.kind === 'invalid' ? 400 : 200,
    );
  });

  router.get('/', deps.access.require(), async (ctx) => show(ctx));

  // The phone is where a reset or a second factor may later be sent, so changing the profile asks
  // for as recent a sign-in as changing the email. A stale form is sent (303) here, which signs the
  // person in again and returns to the account page.
  const recent = deps.access.require({ recentSeconds: RECENT_SIGN_IN_SECONDS });
  router.get('/profile', recent, async (ctx) => seeOther(ctx, '/account'));

  router.post('/profile', recent, async (ctx) => {
    const { user } = ctx.state['account'] as SignedInAccount;
    const t = translator(deps.pages.localeOf(ctx));
    const form = readForm(ctx, profileForm);
    const values = { name: form.name, phone: form.phone, phoneCountry: form.phone_country, timeZone: form.time_zone };
    if (!isCountryCode(values.phoneCountry)) values.phoneCountry = defaultCountry(deps.pages.localeOf(ctx));
    const errors: ProfileErrors = {};
    const nameError = nameProblem(values.name);
    if (nameError) errors.name = t(`signup.error.${nameError}`, { max: MAX_NAME_LENGTH });
    const phone = values.phone ? parsePhone(values.phone, values.phoneCountry) : undefined;
    if (phone && !phone.ok) errors.phone = t('signup.error.phone_invalid');
    if (Object.keys(errors).length) return show(ctx, values, errors, 400);
    // The time zone of the times on these pages and in the emails; no notice needed for it.
    if (isTimeZone(values.timeZone) && values.timeZone !== user.time_zone)
      await users.setTimeZone(user.id, values.timeZone);
    const newPhone = phone?.ok ? phone.e164 : null;
    const nameChanged = values.name !== (user.name ?? '');
    const phoneChanged = newPhone !== user.phone;
    if (nameChanged || phoneChanged) {
      await users.updateProfile(user.id, { name: values.name, phone: newPhone });
      deps.logger.info(
        { event: 'account.profile_updated', accountId: user.id, nameChanged, phoneChanged },
        'profile updated',
      );
      const locale = preferredLocale(user.locale, deps.pages.localeOf(ctx));
      await enqueueQuietly(deps.mailer, deps.logger, {
        to: user.email,
        template: 'profile-changed',
        locale,
        data: {
          email: user.email,
          changedAt: formatInstant(
            new Date(),
            locale,
            isTimeZone(values.timeZone) ? values.timeZone : (user.time_zone ?? undefined),
          ),
          nameChanged,
          phoneChanged,
          phone: newPhone ? maskPhone(newPhone) : '',
          accountUrl: `${deps.config.issuer}/account`,
        },
      });
    }
    seeOther(ctx, '/account?saved=profile');
  });

  return router;
}
