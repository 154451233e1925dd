import { CliInputError } from './cli-errors.ts';

const UNIT_SECONDS = { m: 60, h: 60 * 60, d: 24 * 60 * 60 } as const;

/** `30m`, `12h`, `7d` → seconds, from one minute to `maxSeconds`; anything else is refused naming `option`. */
export function parseDuration(option: string, value: string, maxSeconds: number): number {
  const match = /^([1-9]\d{0,5})([mhd])$/.exec(value);
  if (!match) {
    throw new CliInputError(`${option} "${value}" is not a duration: write a number and m, h or d (30m, 12h, 7d)`);
  }
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  if (seconds > maxSeconds) {
    throw new CliInputError(`${option} ${value} is too long: at most ${maxSeconds / UNIT_SECONDS.d}d`);
  }
  return seconds;
}
