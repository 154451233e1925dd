// oidc-provider's classifier of special-use IP addresses (loopback, private, link-local, CGNAT,
// documentation…), the one its SSRF guard applies to back-channel logout and client JWKS fetches.
// It ships without types; this declares the one function src/webhooks/webhook-transport.ts uses.
declare module 'oidc-provider/lib/helpers/fetch_request.js' {
  export function isSpecialUseIP(address: string): boolean;
}
