/** The command line itself is wrong (unknown command or option, missing option): exit code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** The command is well formed but a value is not acceptable: exit code 1, nothing changed. */
export class CliInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliInputError';
  }
}

/** Runs `work`, turning a domain error of class `kind` (a rejected value) into a CliInputError. */
export async function rejectingAsInput<T>(
  kind: abstract new (...args: never[]) => Error,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof kind) throw new CliInputError(error.message);
    throw error;
  }
}
