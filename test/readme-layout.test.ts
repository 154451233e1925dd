import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../src/config/project-root.ts';

const root = PROJECT_ROOT;

/** The paths named in the first column of the README's layout table. */
function layoutTable(): string[] {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Layout'), readme.indexOf('### The sign-in pipeline'));
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
}

test('the README layout table names every folder of src/ and nothing that is gone', (t) => {
  const listed = layoutTable();
  t.true(listed.length > 10, 'the table was found');
  const folders = fs
    .readdirSync(path.join(root, 'src'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `src/${entry.name}`);
  t.deepEqual(
    folders.filter((folder) => !listed.includes(folder)),
    [],
    'folders of src/ missing from the table',
  );
  t.deepEqual(
    listed.filter((entry) => !fs.existsSync(path.join(root, entry))),
    [],
    'table rows naming nothing',
  );
});
