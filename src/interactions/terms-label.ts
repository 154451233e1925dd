import type { Config } from '../config/config.ts';
import type { Translate } from '../i18n/i18n.ts';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * "Acepto los términos del servicio y el aviso de privacidad" with the operator's two links put
 * in: our own message, escaped, with the links (escaped too) at its placeholders. Shared by the
 * password and the Google/Microsoft sign-up pages, which accept the same terms.
 */
export function termsLabelHtml(config: Pick<Config, 'termsUrl' | 'privacyUrl'>, t: Translate): string {
  const link = (href: string, text: string) =>
    `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${escapeHtml(text)}</a>`;
  return escapeHtml(t('signup.terms', { terms: '\u0000T\u0000', privacy: '\u0000P\u0000' }))
    .replace('\u0000T\u0000', link(config.termsUrl, t('signup.terms_link')))
    .replace('\u0000P\u0000', link(config.privacyUrl, t('signup.privacy_link')));
}
