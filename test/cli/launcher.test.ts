import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../../src/config/project-root.ts';

// bin/umbral.js runs the compiled CLI (build/src/cli/main.js); keys-and-migrate.test.ts runs it for real.

test('the launcher of a checkout without build/ says how to build it', (t) => {
  const checkout = fs.mkdtempSync(path.join(os.tmpdir(), 'umbral-unbuilt-'));
  t.teardown(() => fs.rmSync(checkout, { recursive: true, force: true }));
  fs.mkdirSync(path.join(checkout, 'bin'));
  fs.copyFileSync(path.join(PROJECT_ROOT, 'bin/umbral.js'), path.join(checkout, 'bin/umbral.js'));
  fs.copyFileSync(path.join(PROJECT_ROOT, 'package.json'), path.join(checkout, 'package.json'));
  const result = spawnSync(process.execPath, [path.join(checkout, 'bin/umbral.js'), 'help'], { encoding: 'utf8' });
  t.is(result.status, 1);
  t.is(result.stdout, '');
  t.regex(result.stderr, /^umbral: .*build\/src\/cli\/main\.js is missing: run `npm run build`/);
});
