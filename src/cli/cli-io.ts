import type { Readable } from 'node:stream';

/** Somewhere a command writes text: process.stdout and process.stderr, or a test's buffer. */
export interface TextWriter {
  write(text: string): unknown;
}

/**
 * The streams a command talks to. `umbral` passes the process's own (processIo); tests pass
 * buffers and a string for stdin, so they can run commands in their own process.
 */
export interface CliIo {
  /** Results, as JSON or a line of text. */
  stdout: TextWriter;
  /** Notes and errors for the person at the terminal. */
  stderr: TextWriter;
  /** Read only by `--password-stdin`; a terminal (isTTY) is read without echo. */
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}
