import { ConfigError } from './config-error.ts';

/** COMPANY_SEGMENTS unless set; views/locales/<locale>/organizations-company.json names each. */
export const DEFAULT_COMPANY_SEGMENTS = [
  'agriculture',
  'construction',
  'education',
  'energy',
  'finance',
  'government',
  'health',
  'hospitality',
  'manufacturing',
  'media',
  'nonprofit',
  'professional-services',
  'real-estate',
  'retail',
  'technology',
  'transport',
  'other',
];

const SEGMENT_FORM =
  'must be a comma-separated list of segments: lower-case letters, digits and inner hyphens (1 to 40 each), at most 50, none twice';

/** COMPANY_SEGMENTS: `retail, technology, other` → ['retail', 'technology', 'other']. */
export function parseCompanySegments(value: string | undefined): string[] {
  if (value === undefined || !value.trim()) return [...DEFAULT_COMPANY_SEGMENTS];
  const segments = value.split(',').map((entry) => entry.trim());
  const wellFormed = segments.every((s) => /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/.test(s));
  if (!wellFormed || segments.length > 50 || new Set(segments).size !== segments.length) {
    throw new ConfigError('COMPANY_SEGMENTS', SEGMENT_FORM);
  }
  return segments;
}
