import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import { OperatorDirectory } from '../../src/admin-console/operators.ts';
import type { Walk } from './accessibility-pages.ts';
import { expectHeading, PASSWORD, submitEmail, submitPassword } from './browser-support.ts';

// The operator console's pages for the axe audit (accessibility.test.ts): refused to a person who
// is not an operator, held for an operator without a strong factor, then every section.

/** The states this walk audits, in order (part of COVERED). */
export const OPERATOR_CONSOLE_STATES = [
  'operator console forbidden',
  'operator console second factor needed',
  'operator console home',
  'operator console users',
  'operator console user',
  'operator console portals',
  'operator console portal',
  'operator console organizations',
  'operator console organization',
  'operator console webhooks',
  'operator console audit log',
  'operator console signing keys',
];

export interface OperatorWalkPeople {
  /** Signed in with a password only, never an operator. */
  outsider: string;
  /** An operator with no passkey or authenticator app (password PASSWORD). */
  unprotected: string;
  /** An operator with an authenticator app: its secret, and its password. */
  operator: { email: string; password: string; totpSecret: string };
  organizationId: string;
}

export async function walkOperatorConsole(w: Walk, people: OperatorWalkPeople): Promise<void> {
  const { server, page, audit } = w;
  const operators = new OperatorDirectory(server.umbral.storage.db);
  await operators.add(people.unprotected, 'test');
  await operators.add(people.operator.email, 'test');
  const signInToConsole = async (email: string, password: string) => {
    await w.context.clearCookies();
    await page.goto(`${server.issuer}/admin`);
    await submitEmail(page, email);
    await submitPassword(page, password);
  };
  await signInToConsole(people.outsider, PASSWORD);
  await expectHeading(page, 'No tienes acceso a la consola');
  await audit(page, 'operator console forbidden');
  await signInToConsole(people.unprotected, PASSWORD);
  await expectHeading(page, 'Se necesita una verificación más segura');
  await audit(page, 'operator console second factor needed');

  await signInToConsole(people.operator.email, people.operator.password);
  await expectHeading(page, 'Verificación en dos pasos');
  await useAuthenticatorApp(page);
  // The next period's code (within the app's tolerance): the enrolment may have claimed this one.
  await page.fill('#code', await generate({ secret: people.operator.totpSecret, epoch: Date.now() / 1000 + 30 }));
  await page.locator('form button.primary').click();
  await expectHeading(page, 'Consola de operación');
  await audit(page, 'operator console home');
  const pages: Array<[string, string, string]> = [
    ['/admin/users', 'Usuarios', 'operator console users'],
    [`/admin/users/${(await server.users.findByEmail(people.outsider))!.id}`, people.outsider, 'operator console user'],
    ['/admin/portals', 'Portales', 'operator console portals'],
    ['/admin/portals/portal', 'Portal de Clientes', 'operator console portal'],
    ['/admin/organizations', 'Empresas', 'operator console organizations'],
    [`/admin/organizations/${people.organizationId}`, 'Andes Ltda.', 'operator console organization'],
    ['/admin/webhooks', 'Webhooks', 'operator console webhooks'],
    ['/admin/audit', 'Registro de auditoría', 'operator console audit log'],
    ['/admin/keys', 'Llaves de firma', 'operator console signing keys'],
  ];
  for (const [path, heading, state] of pages) {
    await page.goto(`${server.issuer}${path}`);
    await expectHeading(page, heading);
    await audit(page, state);
  }
  await w.context.clearCookies();
}

/** On the second-factor challenge: the authenticator app, if another method is offered first. */
async function useAuthenticatorApp(page: Page): Promise<void> {
  if (!/recuperación|SMS|llave/i.test(await page.locator('.lead').innerText())) return;
  await page
    .locator('.mfa-others a', { hasText: /aplicación/i })
    .first()
    .click();
  await page.locator('#code').waitFor();
}
