import readline from 'node:readline';
import { CliInputError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';

/**
 * One line from stdin, for `--password-stdin`: piped input is read as is; at a terminal the
 * typing is not echoed. Either way the password stays out of shell history and `ps` output.
 */
export async function readPasswordLine(io: CliIo): Promise<string> {
  const input = io.stdin;
  const line =
    input.isTTY && input.setRawMode
      ? await readHiddenLine(io, input.setRawMode.bind(input))
      : await readFirstLine(input);
  if (line === undefined) throw new CliInputError('--password-stdin: stdin ended before a password was read');
  return line;
}

async function readFirstLine(input: CliIo['stdin']): Promise<string | undefined> {
  const lines = readline.createInterface({ input, crlfDelay: Infinity, terminal: false });
  try {
    for await (const line of lines) return line;
    return undefined;
  } finally {
    lines.close();
    input.destroy(); // else an open pipe keeps the process alive
  }
}

async function readHiddenLine(io: CliIo, setRawMode: (mode: boolean) => unknown): Promise<string | undefined> {
  const input = io.stdin;
  setRawMode(true); // before the prompt, so nothing typed after it is echoed
  io.stderr.write('Password: ');
  input.setEncoding('utf8');
  input.resume();
  try {
    return await new Promise<string | undefined>((resolve, reject) => {
      let typed = '';
      const onData = (chunk: string) => {
        for (const char of chunk) {
          if (char === '\r' || char === '\n') return settle(() => resolve(typed));
          if (char === '\u0004') return settle(() => resolve(typed === '' ? undefined : typed)); // Ctrl-D
          if (char === '\u0003') return settle(() => reject(new CliInputError('cancelled'))); // Ctrl-C
          if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
          else typed += char;
        }
      };
      const settle = (finish: () => void) => {
        input.off('data', onData);
        finish();
      };
      input.on('data', onData);
    });
  } finally {
    setRawMode(false);
    input.pause();
    io.stderr.write('\n');
  }
}
