/** Command results go to stdout as pretty JSON, so they can be piped into jq or saved. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Notes for the person at the terminal go to stderr, out of the way of stdout's JSON. */
export function printNote(text: string): void {
  process.stderr.write(`${text}\n`);
}
