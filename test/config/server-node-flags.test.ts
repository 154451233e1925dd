import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../../src/config/project-root.ts';
import { SERVER_NODE_FLAGS } from '../../src/config/server-node-flags.ts';
import { npmStart } from '../support/start-script.ts';

const read = (file: string) => fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8');

test('npm start runs the server with the shared Node flags', (t) => {
  // After the allocator settings it sets in front (test/config/allocator-settings.test.ts).
  t.deepEqual(npmStart().args, [...SERVER_NODE_FLAGS, 'build/src/main.js']);
});

test("the Dockerfile's command is npm start's, flags included", (t) => {
  const command = read('Dockerfile')
    .split('\n')
    .filter((line) => line.startsWith('CMD '))
    .at(-1);
  t.deepEqual(JSON.parse(command?.slice('CMD '.length) ?? 'null'), ['node', ...SERVER_NODE_FLAGS, 'build/src/main.js']);
});
