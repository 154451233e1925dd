import type { Logger } from '../logging/logger.ts';

/** Rows per insert. */
const BATCH = 500;

/** What a buffer says in the log when it drops or holds rows (each writer keeps its own words). */
export interface WriteBufferMessages {
  /** The `event` of the warnings about dropped rows. */
  droppedEvent: string;
  afterClose: string;
  full: string;
  notWritten: string;
}

/**
 * Rows written off the request path: `push` keeps a row in memory, and the buffer writes them as
 * multi-row inserts every `flushIntervalMs` (or as soon as a batch is full) and at `close()`. A
 * failed write puts its rows back for the next flush, up to `maxBuffered`, beyond which the oldest
 * are dropped with a warning. With `flushIntervalMs` 0, every push is written at once (the CLI).
 * The audit log and the sign-in events both write this way.
 */
export class WriteBuffer<Row> {
  private buffer: Row[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly maxBuffered: number;
  private closed = false;

  constructor(
    private readonly options: {
      logger: Logger;
      messages: WriteBufferMessages;
      /** Writes one batch; a rejection keeps the batch for the next flush. */
      write: (batch: Row[]) => Promise<void>;
      /** Milliseconds between flushes; default 1000. */
      flushIntervalMs?: number | undefined;
      /** Default 10,000. */
      maxBuffered?: number | undefined;
    },
  ) {
    this.maxBuffered = options.maxBuffered ?? 10_000;
    const interval = options.flushIntervalMs ?? 1000;
    if (interval > 0) {
      this.timer = setInterval(() => void this.flush(), interval);
      this.timer.unref();
    }
  }

  /** Keeps a row for the next flush; after `close()` the row is dropped (`log` says what it was) and this is false. */
  push(row: Row, log: Record<string, unknown> = {}): boolean {
    const { logger, messages } = this.options;
    if (this.closed) {
      logger.warn({ event: messages.droppedEvent, ...log }, messages.afterClose);
      return false;
    }
    this.buffer.push(row);
    if (this.buffer.length > this.maxBuffered) {
      const dropped = this.buffer.splice(0, this.buffer.length - this.maxBuffered).length;
      logger.warn({ event: messages.droppedEvent, dropped }, messages.full);
    }
    if (this.timer === undefined || this.buffer.length >= BATCH) void this.flush();
    return true;
  }

  /** Writes what is buffered; resolves once written (or put back after a failure, which is logged). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBuffered());
    return this.flushing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    this.closed = true;
  }

  private async writeBuffered(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.buffer.splice(0, BATCH);
      try {
        await this.options.write(batch);
      } catch (error) {
        this.buffer.unshift(...batch.slice(0, Math.max(0, this.maxBuffered - this.buffer.length)));
        this.options.logger.warn({ err: error, pending: this.buffer.length }, this.options.messages.notWritten);
        return;
      }
    }
  }
}
