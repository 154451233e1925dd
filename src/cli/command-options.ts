import { parseArgs } from 'node:util';
import { CliUsageError } from './cli-errors.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** May be given more than once; the values are collected in order. */
  multiple?: boolean;
  required?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['multiple'] extends true
    ? string[]
    : S['required'] extends true
      ? string
      : string | undefined;

export type ParsedOptions<S extends OptionSpecs> = { [K in keyof S]: ValueOf<S[K]> };

/**
 * Parses one command's `--long` options. parseArgs runs non-strict with tokens so that every
 * problem gets a message naming the option and the command, instead of Node's generic wording.
 */
export function parseOptions<S extends OptionSpecs>(command: string, args: string[], specs: S): ParsedOptions<S> {
  const { tokens } = parseArgs({
    args,
    options: Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | string[] | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs))
    values[name] = spec.type === 'boolean' ? false : spec.multiple ? [] : undefined;

  let afterTerminator = false;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      afterTerminator = true;
      continue;
    }
    if (token.kind === 'positional') {
      throw new CliUsageError(
        `unexpected argument "${token.value}" for "${command}"${afterTerminator ? '' : ' (options start with --)'}`,
      );
    }
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
    if (!spec || !token.rawName.startsWith('--'))
      throw new CliUsageError(`unknown option ${token.rawName} for "${command}"`);
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new CliUsageError(`${token.rawName} takes no value`);
      values[token.name] = true;
      continue;
    }
    // A separate value that looks like an option is almost always a forgotten value (`--name --public`).
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      throw new CliUsageError(`${token.rawName} needs a value (write ${token.rawName}=VALUE if it starts with -)`);
    }
    if (spec.multiple) (values[token.name] as string[]).push(token.value);
    else if (values[token.name] !== undefined) throw new CliUsageError(`${token.rawName} given more than once`);
    else values[token.name] = token.value;
  }

  for (const [name, spec] of Object.entries(specs)) {
    const value = values[name];
    if (spec.required && (value === undefined || (Array.isArray(value) && value.length === 0))) {
      throw new CliUsageError(`"${command}" needs --${name}`);
    }
  }
  return values as ParsedOptions<S>;
}
