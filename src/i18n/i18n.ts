import fs from 'node:fs';
import path from 'node:path';
import { viewsPath } from '../config/project-root.ts';

/** Spanish first (Latin America), then Portuguese (Brazil) and English. */
export const LOCALES = ['es', 'pt-BR', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'es';

type Messages = Record<string, string>;
export type Translate = (key: string, vars?: Record<string, string | number | undefined>) => string;

const localesDir = viewsPath('locales');

/** A locale's messages: every views/locales/<locale>/*.json (one file per feature) merged; a key defined twice is an error. */
function loadCatalog(locale: Locale): Messages {
  const dir = path.join(localesDir, locale);
  const messages: Messages = {};
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const part = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Messages;
    for (const [key, value] of Object.entries(part)) {
      if (key in messages) throw new Error(`message ${key} is defined twice in views/locales/${locale}`);
      messages[key] = value;
    }
  }
  return messages;
}

const catalogs = new Map<Locale, Messages>(LOCALES.map((locale) => [locale, loadCatalog(locale)]));
const pluralRules = new Map<Locale, Intl.PluralRules>(LOCALES.map((locale) => [locale, new Intl.PluralRules(locale)]));

/** Maps a language tag to a supported locale: pt, pt-PT → pt-BR; es-MX → es; en-GB → en. */
function match(tag: string): Locale | undefined {
  const lower = tag.trim().toLowerCase();
  if (!lower) return undefined;
  const exact = LOCALES.find((l) => l.toLowerCase() === lower);
  if (exact) return exact;
  const primary = lower.split('-')[0];
  return LOCALES.find((l) => l.toLowerCase().split('-')[0] === primary);
}

/** The first supported locale of space-separated tags (`ui_locales`), if any. */
export function supportedLocale(tags: string | undefined): Locale | undefined {
  for (const tag of (tags ?? '').split(' ')) {
    const found = match(tag);
    if (found) return found;
  }
  return undefined;
}

/** `ui_locales` (space-separated, in order of preference) wins over Accept-Language. */
export function negotiateLocale(uiLocales: string | undefined, acceptLanguage: string | undefined): Locale {
  const asked = supportedLocale(uiLocales);
  if (asked) return asked;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag, q: q ? Number(q.slice(2)) || 0 : 1, index };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    const found = match(tag);
    if (found) return found;
  }
  return DEFAULT_LOCALE;
}

/**
 * A message, or for a counted one its plural form (i18next's convention: `key_one`, `key_other`,
 * chosen by `vars.count` through the locale's CLDR rules; a category the catalog lacks, such as
 * Spanish `many`, reads as `other`).
 */
function lookup(messages: Messages, rules: Intl.PluralRules, key: string, vars: Parameters<Translate>[1]) {
  const plain = messages[key];
  if (plain !== undefined || vars?.['count'] === undefined) return plain;
  return messages[`${key}_${rules.select(Number(vars['count']))}`] ?? messages[`${key}_other`];
}

export function translator(locale: Locale): Translate {
  const messages = catalogs.get(locale)!;
  const fallback = catalogs.get(DEFAULT_LOCALE)!;
  const rules = pluralRules.get(locale)!;
  const fallbackRules = pluralRules.get(DEFAULT_LOCALE)!;
  return (key, vars) => {
    const template = lookup(messages, rules, key, vars) ?? lookup(fallback, fallbackRules, key, vars);
    if (template === undefined) throw new Error(`missing message ${key}`);
    return template.replace(/\{(\w+)\}/g, (_, name: string) => String(vars?.[name] ?? ''));
  };
}

export function messageKeys(locale: Locale): string[] {
  return Object.keys(catalogs.get(locale)!);
}

/** A person's stored language when it is one we speak, else `fallback` (the page's). */
export function preferredLocale(stored: string | null | undefined, fallback: Locale): Locale {
  return (LOCALES as readonly string[]).includes(stored ?? '') ? (stored as Locale) : fallback;
}

/** An instant as emails state it: "21 de noviembre de 2026, 18:04 UTC". */
export function formatInstant(at: Date, locale: Locale, timeZone?: string): string {
  return zonedInstant(at, locale, timeZone, 'long');
}

/** The same, shorter ("1 dic 2026, 9:30 (GMT-3)"): the sessions list. */
export function formatInstantShort(at: Date, locale: Locale, timeZone?: string): string {
  return zonedInstant(at, locale, timeZone, 'medium');
}

function zonedInstant(at: Date, locale: Locale, timeZone: string | undefined, dateStyle: 'long' | 'medium'): string {
  if (!timeZone || timeZone === 'UTC') {
    return `${new Intl.DateTimeFormat(locale, { dateStyle, timeStyle: 'short', timeZone: 'UTC' }).format(at)} UTC`;
  }
  // The person's zone (src/users/time-zone.ts), named by its offset so the reader knows which.
  const format = new Intl.DateTimeFormat(locale, { dateStyle, timeStyle: 'short', timeZone });
  const zoneName = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'shortOffset' })
    .formatToParts(at)
    .find((part) => part.type === 'timeZoneName')?.value;
  return zoneName ? `${format.format(at)} (${zoneName})` : format.format(at);
}
