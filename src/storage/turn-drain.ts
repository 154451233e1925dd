/**
 * What the group commit of token rows and the batched lookups share: work asked for during one turn
 * of the event loop is started once that turn ends, one batch at a time; what is asked while a
 * batch is in flight waits for it and goes in the next. The check for more work and the end of a
 * drain happen in one synchronous step, so nothing asked for is ever left without a drain.
 */
export class TurnDrain {
  #running = false;
  #scheduled = false;

  constructor(
    private readonly work: {
      /** Whether anything waits. */
      pending(): boolean;
      /** Takes the next batch of what waits and settles it. Must not reject. */
      next(): Promise<void>;
    },
  ) {}

  /** Called after adding work: starts a drain after this turn, unless one is due or running. */
  request(): void {
    if (this.#running || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.work.pending()) await this.work.next();
    } finally {
      this.#running = false;
    }
  }
}
