import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ALLOCATOR_SETTINGS } from '../../src/config/allocator-settings.ts';
import { PROJECT_ROOT } from '../../src/config/project-root.ts';
import { npmStart } from '../support/start-script.ts';

/** The runtime stage's ENV lines of the Dockerfile, as name → value. */
function runtimeEnvironment(): Map<string, string> {
  const dockerfile = fs.readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env = new Map<string, string>();
  for (const line of runtime.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const pair of line.slice('ENV '.length).trim().split(/\s+/)) {
      const eq = pair.indexOf('=');
      env.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  return env;
}

test("the Dockerfile's runtime image sets the allocator settings the bench measures", (t) => {
  const env = runtimeEnvironment();
  for (const [name, value] of Object.entries(ALLOCATOR_SETTINGS)) t.is(env.get(name), value, name);
});

test('npm start sets each allocator setting the environment has not set, before node', (t) => {
  t.deepEqual(npmStart().settings, Object.entries(ALLOCATOR_SETTINGS));
});
