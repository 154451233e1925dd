import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { viewsPath } from '../config/project-root.ts';
import { DEFAULT_LOCALE, LOCALES, type Locale, translator } from '../i18n/i18n.ts';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface EmailBranding {
  productName: string;
  /** LOGO_URL as configured: absolute, or a path on the issuer (default /assets/logo.svg). */
  logoUrl: string | undefined;
  issuer: string;
}

export interface EmailRendererOptions extends EmailBranding {
  /** Where <template>.html.ejs, <template>.txt.ejs and partials/ live; default views/emails. */
  viewsDir?: string;
  /** Compile each template once (production); off in development so edits show at once. */
  cache?: boolean;
}

/** A template or message that cannot render will not render on a retry either. */
export class EmailTemplateError extends Error {
  override name = 'EmailTemplateError';
}

const DEFAULT_VIEWS_DIR = viewsPath('emails');
const TEMPLATE_NAME = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Renders views/emails/<template>.html.ejs and .txt.ejs for one email, in its locale.
 * Templates get the email's data plus t (the email's locale), locale, productName,
 * logoUrl and issuer (both absolute: mail clients have no base URL).
 */
export class EmailRenderer {
  private readonly viewsDir: string;
  private readonly logoUrl: string;

  constructor(private readonly options: EmailRendererOptions) {
    this.viewsDir = options.viewsDir ?? DEFAULT_VIEWS_DIR;
    this.logoUrl = new URL(options.logoUrl ?? '/assets/logo.svg', `${options.issuer}/`).href;
  }

  async render(template: string, locale: string, data: Record<string, unknown>): Promise<RenderedEmail> {
    if (!TEMPLATE_NAME.test(template))
      throw new EmailTemplateError(`invalid email template name ${JSON.stringify(template)}`);
    const lang: Locale = (LOCALES as readonly string[]).includes(locale) ? (locale as Locale) : DEFAULT_LOCALE;
    const t = translator(lang);
    const vars = Object.fromEntries(
      Object.entries(data).map(([key, value]) => [
        key,
        value == null ? undefined : typeof value === 'number' ? value : String(value),
      ]),
    );
    const locals = {
      ...data,
      t,
      locale: lang,
      productName: this.options.productName,
      logoUrl: this.logoUrl,
      issuer: this.options.issuer,
    };
    try {
      const subject = t(`email.${template}.subject`, { product: this.options.productName, ...vars });
      const [html, text] = await Promise.all([
        this.renderFile(`${template}.html.ejs`, locals),
        this.renderFile(`${template}.txt.ejs`, locals),
      ]);
      return { subject: subject.replace(/[\r\n]+/g, ' ').trim(), html, text: tidyText(text) };
    } catch (error) {
      throw new EmailTemplateError(
        `email template ${template} (${lang}) failed to render: ${(error as Error).message}`,
      );
    }
  }

  private async renderFile(name: string, locals: Record<string, unknown>): Promise<string> {
    const file = path.join(this.viewsDir, name);
    if (!fs.existsSync(file)) throw new Error(`missing ${name} in ${this.viewsDir}`);
    return ejs.renderFile(file, locals, {
      cache: this.options.cache ?? false,
      root: this.viewsDir,
      views: [this.viewsDir],
    });
  }
}

/** EJS control lines leave blank runs behind: keep paragraphs, drop the excess. */
function tidyText(text: string): string {
  return `${text
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}
