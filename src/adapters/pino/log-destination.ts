import { pino, type DestinationStream } from 'pino';

export interface LogDestinationOptions {
  /** The file descriptor lines go to; stdout by default. */
  readonly fd?: number;
  /** Bytes of lines held while the reader is behind; a line that would not fit is dropped and counted. */
  readonly maxBufferBytes?: number;
  /** A write in flight this long without progress means the reader has stalled. Milliseconds. */
  readonly stallAfterMs?: number;
}

/** About a thousand lines of the agent's size. */
export const DEFAULT_LOG_BUFFER_BYTES = 1024 * 1024;
/** How long `flush` and `flushSync` wait for the reader at most. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 1_000;
const DEFAULT_STALL_AFTER_MS = 1_000;

/**
 * Where log lines go by default: stdout, written asynchronously (pino's sonic-boom, `sync: false`)
 * so that logging never blocks the event loop, whatever the reader of stdout does. While the reader
 * is behind, lines wait in a buffer of at most `maxBufferBytes`; beyond it they are dropped and
 * counted (`droppedLines`) rather than wait. Before a planned exit, `await flush()`; pino's own
 * exit hook then calls `flushSync` for whatever is left (both give up on a stalled reader).
 */
export class LogDestination implements DestinationStream {
  readonly #stream: ReturnType<typeof pino.destination>;
  readonly #flushNow: () => void;
  readonly #stallAfterMs: number;
  #dropped = 0;
  /** A write is in flight (sonic-boom emits 'drain' once everything buffered is written). */
  #busy = false;
  #lastProgressAt = 0;
  #droppedSinceProgress = 0;
  /** A `flush` timed out since the last progress: the exit flush need not try again. */
  #flushTimedOut = false;
  /** While `flushSync` runs: when it gives up on a full pipe. */
  #syncDeadline: number | null = null;

  constructor({ fd = 1, maxBufferBytes = DEFAULT_LOG_BUFFER_BYTES, stallAfterMs = DEFAULT_STALL_AFTER_MS }: LogDestinationOptions = {}) {
    this.#stallAfterMs = stallAfterMs;
    openStdio(fd);
    this.#stream = pino.destination({
      dest: fd,
      sync: false,
      maxLength: maxBufferBytes,
      // A full pipe (EAGAIN): asynchronous writes retry later; a synchronous flush gives up at its deadline.
      retryEAGAIN: () => this.#syncDeadline === null || Date.now() < this.#syncDeadline,
    });
    this.#stream.on('drop', () => {
      this.#dropped += 1;
      this.#droppedSinceProgress += 1;
    });
    this.#stream.on('write', () => this.#progress());
    this.#stream.on('drain', () => {
      this.#busy = false;
    });
    // A failing stdout must not take the agent down with it: the lines are lost, as they would be.
    this.#stream.on('error', () => undefined);
    // pino flushes its destinations synchronously on exit; on a stalled pipe that flush would never
    // end and the process would never exit. It goes through the bounded flushSync below.
    this.#flushNow = this.#stream.flushSync.bind(this.#stream);
    this.#stream.flushSync = () => void this.flushSync();
  }

  /** Takes one finished line; never blocks. */
  write(line: string): void {
    if (!this.#busy) {
      this.#busy = true;
      this.#progress();
    }
    this.#stream.write(line);
  }

  /** Lines dropped because the buffer was full (the reader of stdout was too far behind). */
  get droppedLines(): number {
    return this.#dropped;
  }

  /** True while the reader takes nothing: the write in flight made no progress for a while, or lines were dropped since it last did. */
  get stalled(): boolean {
    const noProgress = this.#droppedSinceProgress > 0 || this.#flushTimedOut || Date.now() - this.#lastProgressAt > this.#stallAfterMs;
    return this.#busy && noProgress;
  }

  /**
   * Resolves true once every line taken so far has been written, false when the reader has stalled
   * (at once) or `timeoutMs` passed first. Never blocks the event loop; lines keep their order.
   */
  async flush(timeoutMs = DEFAULT_FLUSH_TIMEOUT_MS): Promise<boolean> {
    if (!this.#busy) return true;
    if (this.stalled) return false;
    return new Promise((resolve) => {
      const onDrain = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#stream.off('drain', onDrain);
        this.#flushTimedOut = true;
        resolve(false);
      }, timeoutMs);
      this.#stream.once('drain', onDrain);
    });
  }

  /**
   * Writes out the buffered lines synchronously, for exit: true when all were written. Best effort:
   * false at once when the reader has stalled, or after `timeoutMs` of a full pipe. A write already
   * in flight is not waited for, so the last lines may land before it: prefer `flush` while the
   * event loop runs.
   */
  flushSync(timeoutMs = DEFAULT_FLUSH_TIMEOUT_MS): boolean {
    if (this.stalled) return false;
    this.#syncDeadline = Date.now() + timeoutMs;
    try {
      this.#flushNow();
      return true;
    } catch {
      return false; // EAGAIN past the deadline, or a closed or broken stdout
    } finally {
      this.#syncDeadline = null;
    }
  }

  #progress(): void {
    this.#lastProgressAt = Date.now();
    this.#droppedSinceProgress = 0;
    this.#flushTimedOut = false;
  }
}

/**
 * Has Node open stdout or stderr when `fd` is one of them: libuv then puts a pipe or socket in
 * non-blocking mode. Why: sonic-boom writes from libuv's thread pool, and a blocking write to a pipe
 * nobody reads would hold its thread forever — and process exit waits for those threads. Non-blocking,
 * the write fails with EAGAIN and is retried later (`retryEAGAIN`). Files and terminals are unaffected.
 */
function openStdio(fd: number): void {
  if (fd === 1) void process.stdout;
  else if (fd === 2) void process.stderr;
}
