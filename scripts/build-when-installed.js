// `prepare` (run by `npm install` and `npm ci` in this directory): compiles the sources to build/,
// so that `npm install` then `npm start` works on a fresh clone. A production install
// (`npm ci --omit=dev`, as in the Dockerfile) has no TypeScript and runs a build/ made elsewhere:
// there this says so and succeeds, instead of failing the install.
// Plain JavaScript on purpose: it must run before anything is compiled.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

try {
  createRequire(import.meta.url).resolve('typescript/package.json');
} catch {
  process.stdout.write('umbral: TypeScript is not installed (production install): not building build/\n');
  process.exit(0);
}
// npm sets npm_execpath to its own CLI script while it runs a lifecycle script.
const npm = process.env.npm_execpath;
const result = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
