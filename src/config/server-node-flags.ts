/**
 * Node's flags for the server process, wherever it is started: `npm start` and the Dockerfile (held
 * to this list by test/config/server-node-flags.test.ts), the bench, the fault table and the test
 * nodes. Source maps, so stack traces name the TypeScript. A young generation of 32 MB semi-spaces
 * (V8's default is 16): under token load most objects live for one request, and a request waiting
 * for its batched write outlives two 16 MB scavenges and is promoted; with 32 MB fewer are, and the
 * major collections that set the half-load tail come less often (client-credentials p99 at half
 * load 57–85 ms against 109–192 ms in four A/B pairs, 25 MB more at peak, the same at rest:
 * BENCHMARKS.md, 2026-12-02).
 */
export const SERVER_NODE_FLAGS = ['--enable-source-maps', '--max-semi-space-size=32'] as const;
