// `npm test` after the build: ava, with V8's optimizing compiler (TurboFan) off for the whole
// run. Each test file runs in a fresh worker thread for a few seconds, so code is optimized for
// runs that are nearly over: measured on 12 typical files, 6-10% less CPU with it off (the suite is
// CPU-bound on two cores). V8 flags can't go on ava's command line: ava hands its execArgv to
// the worker threads, which refuse V8 flags; set here, before any worker starts, they apply to all.
// The young generation's semi-space goes to 32 MB (16 by default): test workers allocate fast and
// briefly, and a larger nursery means fewer scavenges and less promoted garbage (not measured alone:
// the suite went from 252 s to 240 s with it and fewer two-store journeys together).
// Plain JavaScript, like the build script beside it. Production runs keep V8's defaults.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';

// Scratch files in memory where Linux offers it (tmpfs at /dev/shm), unless TMPDIR says otherwise:
// each PGlite test store is a 26 MB copy of a migrated template, and each Chromium a new profile;
// on disk those copies cost kernel time for writing back files deleted seconds later.
if (!process.env.TMPDIR) {
  try {
    const { bavail, bsize } = fs.statfsSync('/dev/shm');
    if (bavail * bsize > 4 * 1024 ** 3) {
      const scratch = '/dev/shm/umbral-tests';
      fs.mkdirSync(scratch, { recursive: true });
      process.env.TMPDIR = scratch;
    }
  } catch {
    // no /dev/shm (macOS, Windows): the system's temporary directory
  }
}

v8.setFlagsFromString('--no-opt');
v8.setFlagsFromString('--max-semi-space-size=32');
// ava's CLI is its `bin`, not an export: found beside its main entry point.
const cli = path.join(path.dirname(createRequire(import.meta.url).resolve('ava')), 'cli.mjs');
await import(pathToFileURL(cli).href);
