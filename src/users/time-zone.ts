/**
 * The person's time zone, for the times on their pages and in their emails: the one stored on the
 * account (taken from the browser at sign-up or sign-in, or chosen on the account page), else the
 * zone of the country their browser's languages name (es-CL → America/Santiago), else the
 * issuer's own (the process's TZ).
 */

const ZONES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('timeZone'));

/** Every IANA zone this runtime knows, sorted: the account page's choices. */
export function timeZones(): readonly string[] {
  return [...ZONES];
}

export function isTimeZone(value: unknown): value is string {
  return typeof value === 'string' && (ZONES.has(value) || value === 'UTC');
}

/** The zone most people of a country live in: Latin America, Spain and Portugal (multi-zone countries: the capital's). */
const ZONE_OF_REGION: Record<string, string> = {
  AR: 'America/Argentina/Buenos_Aires',
  BO: 'America/La_Paz',
  BR: 'America/Sao_Paulo',
  CL: 'America/Santiago',
  CO: 'America/Bogota',
  CR: 'America/Costa_Rica',
  CU: 'America/Havana',
  DO: 'America/Santo_Domingo',
  EC: 'America/Guayaquil',
  ES: 'Europe/Madrid',
  GT: 'America/Guatemala',
  HN: 'America/Tegucigalpa',
  MX: 'America/Mexico_City',
  NI: 'America/Managua',
  PA: 'America/Panama',
  PE: 'America/Lima',
  PR: 'America/Puerto_Rico',
  PT: 'Europe/Lisbon',
  PY: 'America/Asuncion',
  SV: 'America/El_Salvador',
  UY: 'America/Montevideo',
  VE: 'America/Caracas',
};

/** The zone of the first Accept-Language tag whose region we know ("es-CL,es;q=0.9" → America/Santiago). */
export function zoneOfLanguages(acceptLanguage: string | undefined): string | undefined {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const region = part.trim().split(';')[0]?.split('-')[1]?.toUpperCase();
    const zone = region ? ZONE_OF_REGION[region] : undefined;
    if (zone) return zone;
  }
  return undefined;
}

export function issuerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The zone to show a person's times in: theirs, their browser's country's, the issuer's. */
export function personTimeZone(stored: string | null | undefined, acceptLanguage?: string): string {
  return (isTimeZone(stored) ? stored : undefined) ?? zoneOfLanguages(acceptLanguage) ?? issuerTimeZone();
}
