import test from 'ava';
import { CliUsageError } from '../../src/cli/cli-errors.ts';
import { parseOptions } from '../../src/cli/command-options.ts';

const SPECS = {
  id: { type: 'string', required: true },
  uri: { type: 'string', multiple: true },
  name: { type: 'string' },
  public: { type: 'boolean' },
} as const;

const parse = (args: string[]) => parseOptions('test', args, SPECS);

test('parses separate and inline values, repeats and flags', (t) => {
  t.deepEqual(parse(['--id', 'a', '--uri=https://x/1', '--uri', 'https://x/2', '--public']), {
    id: 'a',
    uri: ['https://x/1', 'https://x/2'],
    name: undefined,
    public: true,
  });
  t.deepEqual(parse(['--id=-starts-with-dash']), { id: '-starts-with-dash', uri: [], name: undefined, public: false });
});

test('rejects what a person most likely mistyped, naming the option', (t) => {
  const cases: Array<[string[], string]> = [
    [[], '"test" needs --id'],
    [['--id', 'a', '--nope'], 'unknown option --nope for "test"'],
    [['--id', 'a', '-p'], 'unknown option -p for "test"'],
    [['--id', '--public'], '--id needs a value (write --id=VALUE if it starts with -)'],
    [['--id', 'a', '--name'], '--name needs a value (write --name=VALUE if it starts with -)'],
    [['--id', 'a', '--id', 'b'], '--id given more than once'],
    [['--id', 'a', '--public=yes'], '--public takes no value'],
    [['--id', 'a', 'stray'], 'unexpected argument "stray" for "test" (options start with --)'],
    [['--id', 'a', '--', '--public'], 'unexpected argument "--public" for "test"'],
  ];
  for (const [args, message] of cases) {
    const error = t.throws(() => parse(args), { instanceOf: CliUsageError }, args.join(' '));
    t.is(error?.message, message, args.join(' '));
  }
});
