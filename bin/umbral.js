#!/usr/bin/env node
// `umbral …` (npx umbral, docker exec … node bin/umbral.js): runs the compiled CLI from build/, from
// any directory. `npm install` builds it (the `prepare` script); `npm run umbral …` runs the
// TypeScript sources through tsx instead, for development.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const cli = path.join(import.meta.dirname, '..', 'build', 'src', 'cli', 'main.js');
if (!fs.existsSync(cli)) {
  process.stderr.write(
    `umbral: ${cli} is missing: run \`npm run build\` (or \`npm run umbral -- …\` to run the sources with tsx)\n`,
  );
  process.exit(1);
}
process.setSourceMapsEnabled(true);
await import(pathToFileURL(cli).href);
