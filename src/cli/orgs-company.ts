import { requireTaxId } from '../organizations/company-checks.ts';
import { parseSegment } from '../organizations/company-input.ts';
import type { CliIo } from './cli-io.ts';
import { type OrgsContext, parsed } from './orgs-support.ts';

/** What `orgs add` and `orgs update` check of the company data once the configuration is read, and say after. */

/** `--segment` is one of the deployment's COMPANY_SEGMENTS. */
export function checkSegment(c: OrgsContext, fields: { segment?: string | null | undefined }): void {
  if (typeof fields.segment === 'string') {
    const segment = fields.segment;
    fields.segment = parsed(() => parseSegment(segment, c.context.config.companySegments));
  }
}

/** Accepted with a second look worth taking (an RFC whose check digit does not match): said on stderr. */
export function warnAboutTaxId(io: CliIo, country: string | null, taxId: string | null): void {
  if (!country || !taxId) return;
  const { warning } = requireTaxId(country, taxId);
  if (warning) io.stderr.write(`warning: ${warning}\n`);
}
