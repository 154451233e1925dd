// oidc-provider reads its signing keys once, from the `jwks` configuration. To reload them in a
// running server (src/provider/key-reload.ts) Umbral calls the function that reads them, which the
// package exports no name for. Checked against oidc-provider 9.13 by test/cluster/three-nodes.test.ts.
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  export default function initializeKeystore(this: unknown, jwks: { keys: unknown[] }): void;
}
