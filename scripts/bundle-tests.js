// `npm test`, after tsc: the compiled test files bundled into build/bundled-test, with the code they
// share split into common chunks. Each test file runs in a fresh worker thread that loads the whole
// app; from build/test that is about 1,060 ES modules, which Node 20's ES module loader resolves,
// reads and compiles one by one (0.75-1 s of CPU to import the app; 0.4 s bundled). Bundled, a
// worker loads a few dozen chunks: Umbral's own code and the pure ES module packages that make up
// most of the count (kysely, oidc-provider, jose, zod, libphonenumber-js). Every other package stays an
// ordinary import: CommonJS, native (argon2), WebAssembly (PGlite), or reading files beside itself
// (playwright-core, pino's transports, ejs through koa-views), and ava itself, which hands each
// file its `test`. Source maps go through to the TypeScript. Spawned servers and the CLI run
// build/src as in production: only the test workers load the bundle.
// Plain JavaScript, like the build script beside it.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const from = path.join(root, 'build/test');
const to = path.join(root, 'build/bundled-test');
const BUNDLED = new Set(['kysely', 'oidc-provider', 'jose', 'zod', 'libphonenumber-js']);

/** The package a bare specifier names: `@scope/name` or `name`. */
const packageOf = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

const entryPoints = fs
  .readdirSync(from, { recursive: true })
  .filter((file) => file.endsWith('.test.js'))
  .map((file) => path.join(from, file));

fs.rmSync(to, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: to,
  outbase: from,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  plugins: [
    {
      name: 'bundle-only-pure-esm-packages',
      setup(plugin) {
        plugin.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('node:') || !BUNDLED.has(packageOf(args.path))
            ? { path: args.path, external: true }
            : undefined,
        );
      },
    },
  ],
});
