/**
 * What a start-up has opened, closed last-opened first: a service is closed before what it was
 * built on (the webhook worker before the audit log it records to, everything before storage).
 * The same stack serves a start-up that fails halfway and the `close()` of one that succeeded, so
 * neither leaves a Redis connection, a pool or a worker's timer behind.
 */
export class ResourceStack {
  readonly #closers: { name: string; close: () => unknown }[] = [];
  #closing: Promise<void> | undefined;

  /** Registers how to close something just opened; returns it, so opening and registering are one line. */
  own<T>(name: string, resource: T, close: (resource: T) => unknown): T {
    if (this.#closing) throw new Error(`${name} opened after close() began`);
    this.#closers.push({ name, close: () => close(resource) });
    return resource;
  }

  /** Registers a closer on its own (a wait, a stop with nothing to return). */
  defer(name: string, close: () => unknown): void {
    this.own(name, undefined, close);
  }

  /**
   * Closes everything, last registered first. A closer that fails does not stop the others: its
   * error is kept, and once all have run the errors are thrown together (an AggregateError naming
   * each). Calling it again waits for the same close.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  async #closeAll(): Promise<void> {
    const errors: Error[] = [];
    for (const { name, close } of this.#closers.reverse()) {
      try {
        await close();
      } catch (cause) {
        errors.push(
          new Error(`closing ${name} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }),
        );
      }
    }
    this.#closers.length = 0;
    if (errors.length) throw new AggregateError(errors, errors.map((e) => e.message).join('; '));
  }
}
