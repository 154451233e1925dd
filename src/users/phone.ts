import { type CountryCode, getCountries, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Locale } from '../i18n/i18n.ts';

/**
 * Phone numbers are stored in E.164 (+5215512345678). People pick a country (for its calling
 * code) and type the national number, or type the whole number with its leading +.
 */

/**
 * The country preselected when the browser's languages name none: Mexico for Spanish (the
 * largest Spanish-speaking country of Latin America), Brazil for Portuguese, the US for English.
 */
export const DEFAULT_COUNTRY_BY_LOCALE: Record<Locale, CountryCode> = { es: 'MX', 'pt-BR': 'BR', en: 'US' };

const COUNTRIES = new Set<string>(getCountries());

export function isCountryCode(value: string): value is CountryCode {
  return COUNTRIES.has(value);
}

/**
 * The preselected country: the region of the first language tag that names one (es-AR → AR,
 * from ui_locales then Accept-Language), else the locale's default.
 */
export function defaultCountry(locale: Locale, languageTags: string[] = []): CountryCode {
  for (const tag of languageTags) {
    const region = tag.trim().split(';')[0]?.split('-')[1]?.toUpperCase();
    if (region && isCountryCode(region)) return region;
  }
  return DEFAULT_COUNTRY_BY_LOCALE[locale];
}

export interface CountryOption {
  code: CountryCode;
  label: string;
}

const optionsCache = new Map<Locale, CountryOption[]>();

/** Every country with its calling code, named and sorted in the page's language: "México (+52)". */
export function countryOptions(locale: Locale): CountryOption[] {
  let options = optionsCache.get(locale);
  if (!options) {
    const names = new Intl.DisplayNames([locale], { type: 'region' });
    const collator = new Intl.Collator(locale);
    options = getCountries()
      .map((code) => ({ code, name: names.of(code) ?? code }))
      .sort((a, b) => collator.compare(a.name, b.name))
      .map(({ code, name }) => ({ code, label: `${name} (+${getCountryCallingCode(code)})` }));
    optionsCache.set(locale, options);
  }
  return options;
}

export type PhoneParse = { ok: true; e164: string } | { ok: false };

/** A valid number in E.164; `input` may carry its own +country code, which then wins over `country`. */
export function parsePhone(input: string, country: string | undefined): PhoneParse {
  const trimmed = input.trim();
  if (!trimmed || trimmed.length > 40) return { ok: false };
  const international = trimmed.startsWith('+') || trimmed.startsWith('00');
  const text = trimmed.startsWith('00') ? `+${trimmed.slice(2)}` : trimmed;
  const fallback = country && isCountryCode(country) ? country : undefined;
  if (!international && !fallback) return { ok: false };
  const parsed = parsePhoneNumberFromString(text, international ? undefined : fallback);
  if (!parsed?.isValid()) return { ok: false };
  return { ok: true, e164: parsed.number };
}

/**
 * A stored number as the phone fields show it: its own country (a "+54 11…" number is Argentina's,
 * whatever the page's language) and the national number; `fallback` only for an unparsable one.
 */
export function storedPhoneFields(e164: string | null, fallback: CountryCode): { phone: string; phoneCountry: string } {
  if (!e164) return { phone: '', phoneCountry: fallback };
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed?.country) return { phone: e164, phoneCountry: fallback };
  return { phone: parsed.formatNational(), phoneCountry: parsed.country };
}

/** A stored number in full, as people write it: "+54 9 11 2345-6789". */
export function displayPhone(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}
