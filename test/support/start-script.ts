import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/project-root.ts';

/**
 * `npm start` as package.json has it: the allocator settings it puts in front, each
 * `NAME=${NAME:-value}` (set unless the environment has it), in order, then `node` and its
 * arguments. Anything else in the script is refused, so a test reading it notices a change.
 */
export function npmStart(): { settings: Array<[string, string]>; args: string[] } {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const words = scripts.start.split(' ');
  const settings: Array<[string, string]> = [];
  for (let word = words[0]; word && word !== 'node'; word = words[0]) {
    const setting = /^(\w+)=\$\{\1:-([^}]*)\}$/.exec(word);
    if (!setting) throw new Error(`npm start is not settings and a plain node command: ${scripts.start}`);
    settings.push([setting[1]!, setting[2]!]);
    words.shift();
  }
  if (words.shift() !== 'node') throw new Error(`npm start does not run node: ${scripts.start}`);
  return { settings, args: words };
}
