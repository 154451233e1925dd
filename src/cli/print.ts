import type { CliIo } from './cli-io.ts';

/** Command results go to stdout as pretty JSON, so they can be piped into jq or saved. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Notes for the person at the terminal go to stderr, out of the way of stdout's JSON. */
export function printNote(io: CliIo, text: string): void {
  io.stderr.write(`${text}\n`);
}
