import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { isHexColor } from '../clients/brand-color.ts';
import type { SupportContact } from '../config/config.ts';

/** The operator's own look, on every page that belongs to no portal. */
export interface OperatorBranding {
  productName: string;
  /** LOGO_URL; Umbral's mark when unset. */
  logoUrl: string | undefined;
  support: SupportContact;
}

/** The metadata of a portal its pages show (oidc-provider's snake_case names). */
export interface PortalBrandingMetadata {
  client_id?: unknown;
  client_name?: unknown;
  initiate_login_uri?: unknown;
  logo_uri?: unknown;
  client_uri?: unknown;
  tos_uri?: unknown;
  policy_uri?: unknown;
  brand_color?: unknown;
}

/** What the header and footer of a page show (views/partials/head.ejs and foot.ejs). */
export interface PageBranding {
  /** The portal's client_name, else the product's. */
  name: string;
  logoUrl: string;
  /** True when the logo is the portal's own (or its organization's): it then has an alt text of its own. */
  portalLogo: boolean;
  /** Whose logo it is, for its alt text: the portal's name, or the organization's. */
  logoName: string;
  /** The inline style on <body> setting the portal's colour, or undefined (umbral.css's defaults). */
  style: string | undefined;
  /** The portal's terms and privacy policy, when it registered them. */
  termsUrl: string | undefined;
  privacyUrl: string | undefined;
  support: SupportContact;
  /** Where "Volver a {portal}" leads: its initiate_login_uri, else its client_uri; undefined without either. */
  home: PortalHome | undefined;
}

/** A portal's way back, for the pages a person may otherwise be stranded on. */
export interface PortalHome {
  clientId: string;
  name: string;
  url: string;
}

/** Finds a portal's metadata by client_id; undefined for an unknown one. */
export type PortalFinder = (clientId: string) => Promise<PortalBrandingMetadata | undefined>;

const CLIENT_ID_STATE = 'brandingClientId';
const ORGANIZATION_LOGO_STATE = 'brandingOrganizationLogo';

/** The client_id of the portal whose pages this browser saw last (signed; a day). */
const LAST_PORTAL_COOKIE = 'umbral.portal';
const LAST_PORTAL_OPTIONS = { signed: true, httpOnly: true, sameSite: 'lax', maxAge: 24 * 3600_000 } as const;

/**
 * Says which portal the page being handled belongs to, when ctx.oidc does not (interaction pages,
 * links opened from an email). The page renderer brands the page after it.
 */
export function brandPageFor(ctx: Context, clientId: string | undefined): void {
  if (clientId) ctx.state[CLIENT_ID_STATE] = clientId;
}

/**
 * A page of an organization's own (its invitation, its company console): its home portal's
 * branding, with the organization's logo (organizations.logo_uri) instead of the portal's.
 */
export function brandPageForOrganization(
  ctx: Context,
  organization: { name: string; logo_uri: string | null; home_client_id: string | null },
): void {
  brandPageFor(ctx, organization.home_client_id ?? undefined);
  showOrganizationLogo(ctx, organization);
}

/**
 * The rule for organization logos: a page shows an organization's logo once the flow it belongs to
 * is known to be that organization's: its invitation and console pages, and, in a sign-in, every
 * page after the organization was decided (its second factor, consent). The portal stays the one
 * that asked (its name, colour and links). Being an organization's home portal (home_client_id) is
 * not enough: several organizations may share one portal, so its other pages keep the portal's logo.
 */
export function showOrganizationLogo(ctx: Context, organization: { name: string; logo_uri: string | null }): void {
  const logo = httpUrl(organization.logo_uri);
  if (logo) ctx.state[ORGANIZATION_LOGO_STATE] = { url: logo, name: organization.name };
}

/** A page's branding: the portal's where it set one, the operator's for the rest. Pure. */
export function pageBranding(operator: OperatorBranding, portal?: PortalBrandingMetadata): PageBranding {
  const name = nonEmpty(portal?.client_name);
  const logo = httpUrl(portal?.logo_uri);
  const color = isHexColor(portal?.brand_color) ? portal.brand_color : undefined;
  return {
    name: name ?? operator.productName,
    logoUrl: logo ?? operator.logoUrl ?? '/assets/logo.svg',
    portalLogo: logo !== undefined,
    logoName: name ?? operator.productName,
    // White text on it has passed the 4.5:1 check at registration (src/clients/brand-color.ts).
    style: color ? `--brand: ${color}; --brand-text: #fff` : undefined,
    termsUrl: httpUrl(portal?.tos_uri),
    privacyUrl: httpUrl(portal?.policy_uri),
    support: operator.support,
    home: portalHome(portal, name),
  };
}

function portalHome(portal: PortalBrandingMetadata | undefined, name: string | undefined): PortalHome | undefined {
  const url = httpUrl(portal?.initiate_login_uri) ?? httpUrl(portal?.client_uri);
  const clientId = nonEmpty(portal?.client_id);
  return url && clientId && name ? { clientId, name, url } : undefined;
}

/**
 * The CSP source that lets exactly this style attribute apply ('unsafe-hashes' with its hash),
 * so the page policy keeps refusing every other inline style.
 */
export function styleAttributeSource(style: string): string {
  return `'unsafe-hashes' 'sha256-${createHash('sha256').update(style).digest('base64')}'`;
}

/**
 * Resolves the branding of each page in one place: the portal of the request (ctx.oidc.client on
 * oidc-provider's own pages, such as logout; else the one brandPageFor named), or the operator's.
 */
export class PageBrandingResolver {
  private findPortal: PortalFinder | undefined;

  constructor(private readonly operator: OperatorBranding) {}

  /** Set once the provider exists (it is created after the page renderer). */
  usePortals(find: PortalFinder): void {
    this.findPortal = find;
  }

  async resolve(ctx: Context): Promise<PageBranding> {
    const portal = pageBranding(this.operator, await this.portalOf(ctx));
    const organizationLogo = ctx.state[ORGANIZATION_LOGO_STATE] as { url: string; name: string } | undefined;
    const branding = organizationLogo
      ? { ...portal, logoUrl: organizationLogo.url, portalLogo: true, logoName: organizationLogo.name }
      : portal;
    // Secure whenever the request is (behind a TLS proxy too): Koa refuses a secure cookie over plain http.
    if (branding.home)
      ctx.cookies.set(LAST_PORTAL_COOKIE, branding.home.clientId, { ...LAST_PORTAL_OPTIONS, secure: ctx.secure });
    return branding;
  }

  /**
   * The portal this browser last came from, for pages that no longer know it (an expired sign-in,
   * an error, the logged-out page): their "Volver a {portal}". Only a registered portal's own URL.
   */
  async lastPortal(ctx: Context): Promise<PortalHome | undefined> {
    const clientId = ctx.cookies.get(LAST_PORTAL_COOKIE, { signed: true });
    if (!clientId || !this.findPortal) return undefined;
    const portal = await this.findPortal(clientId).catch(() => undefined);
    return portal ? portalHome(portal, nonEmpty(portal.client_name)) : undefined;
  }

  private async portalOf(ctx: Context): Promise<PortalBrandingMetadata | undefined> {
    const oidcClient = (ctx as { oidc?: { client?: { metadata(): PortalBrandingMetadata } } }).oidc?.client;
    if (oidcClient) return oidcClient.metadata();
    const clientId = ctx.state[CLIENT_ID_STATE] as string | undefined;
    if (!clientId || !this.findPortal) return undefined;
    // An unknown or broken client renders the operator's page rather than an error.
    return this.findPortal(clientId).catch(() => undefined);
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value : undefined;
}

/** Registration allowed only http(s) URLs; anything else stored is not shown. */
function httpUrl(value: unknown): string | undefined {
  const url = typeof value === 'string' ? URL.parse(value) : null;
  return url && (url.protocol === 'https:' || url.protocol === 'http:') ? url.href : undefined;
}
