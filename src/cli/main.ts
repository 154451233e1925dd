// `umbral …` as a process (bin/umbral.js, npm run umbral): the command line, environment and streams are this process's.
import { processIo } from './cli-io.ts';
import { main } from './command-line.ts';

process.exitCode = await main(process.argv.slice(2), process.env, processIo());
