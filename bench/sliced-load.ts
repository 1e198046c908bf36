import { connect, type Socket } from 'node:net';
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';

/** What one `LoadPool.run` saw. */
export interface SliceResult {
  /** 2xx responses. */
  readonly ok: number;
  readonly non2xx: number;
  /** Connections lost or timed out with a request in flight. */
  readonly errors: number;
  /** From the first request sent to the last response received, in-flight requests drained. */
  readonly elapsedMs: number;
  /** 2xx response times in microseconds. */
  readonly latencies: RecordableHistogram;
}

interface Tally {
  ok: number;
  non2xx: number;
  errors: number;
  readonly latencies: RecordableHistogram;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;
/** A request unanswered for this long counts as an error and ends its connection. */
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * One keep-alive HTTP/1.1 connection in a closed loop: a request, its response, the next request.
 * It understands just what the demo route answers (a body with Content-Length), which keeps the
 * client's own cost per request far below the server's.
 */
class LoadConnection {
  #pending: Buffer = Buffer.alloc(0);
  #sentAt = 0;
  #tally: Tally | null = null;
  #driving = false;
  #whenIdle: (() => void) | null = null;
  #alive = true;

  private constructor(
    private readonly socket: Socket,
    private readonly request: Buffer,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new Error('request timed out')));
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', () => undefined); // 'close' follows and does the accounting
    socket.on('close', () => this.#lost());
  }

  static open(url: URL): Promise<LoadConnection> {
    const request = Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n\r\n`, 'latin1');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port) });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new LoadConnection(socket, request));
      });
    });
  }

  /** Sends requests back to back, counted in `tally`, until `stop()`. */
  drive(tally: Tally): void {
    if (!this.#alive) return;
    this.#tally = tally;
    this.#driving = true;
    this.#send();
  }

  /** Stops sending; resolves once the request in flight, if any, is answered or lost. */
  stop(): Promise<void> {
    this.#driving = false;
    if (this.#sentAt === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#whenIdle = resolve;
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  close(): void {
    this.#alive = false;
    this.socket.destroy();
  }

  #send(): void {
    this.#sentAt = performance.now();
    this.socket.write(this.request);
  }

  #receive(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const headerEnd = this.#pending.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.#pending.toString('latin1', 0, headerEnd);
    const length = CONTENT_LENGTH.exec(head);
    if (length === null) {
      this.socket.destroy(new Error('response without Content-Length'));
      return;
    }
    const end = headerEnd + HEADER_END.length + Number(length[1]);
    if (this.#pending.length < end) return;
    this.#pending = this.#pending.subarray(end);
    this.#answered(Number(head.slice(9, 12)));
  }

  #answered(status: number): void {
    const tally = this.#tally as Tally;
    if (status >= 200 && status < 300) {
      tally.ok += 1;
      tally.latencies.record(Math.max(1, Math.round((performance.now() - this.#sentAt) * 1000)));
    } else {
      tally.non2xx += 1;
    }
    this.#sentAt = 0;
    if (this.#driving) this.#send();
    else this.#idle();
  }

  #lost(): void {
    if (this.#alive && this.#sentAt !== 0 && this.#tally !== null) this.#tally.errors += 1;
    this.#alive = false;
    this.#sentAt = 0;
    this.#idle();
  }

  #idle(): void {
    this.#whenIdle?.();
    this.#whenIdle = null;
  }
}

/**
 * Keep-alive connections to one URL, driven in closed loop for short slices of time. Slices of a
 * few hundred milliseconds, alternated between apps, compare them under the same machine
 * conditions: on a shared VM the speed of a core drifts by tens of percent within seconds, which
 * runs of whole seconds each (a new autocannon per run) cannot separate from a 3 % difference.
 */
export class LoadPool {
  private constructor(
    private readonly target: URL,
    private readonly connections: LoadConnection[],
  ) {}

  static async open(url: string, connections: number): Promise<LoadPool> {
    const target = new URL(url);
    if (target.protocol !== 'http:') throw new Error(`LoadPool speaks plain HTTP only, not ${target.protocol}`);
    return new LoadPool(target, await Promise.all(Array.from({ length: connections }, () => LoadConnection.open(target))));
  }

  /**
   * Drives every connection for `ms`, then waits for the requests in flight. A connection lost
   * in an earlier slice (counted there as an error when a request was in flight) is reopened.
   */
  async run(ms: number): Promise<SliceResult> {
    for (const [index, connection] of this.connections.entries()) {
      if (!connection.alive) this.connections[index] = await LoadConnection.open(this.target);
    }
    const tally: Tally = { ok: 0, non2xx: 0, errors: 0, latencies: createHistogram() };
    const startedAt = performance.now();
    for (const connection of this.connections) connection.drive(tally);
    await new Promise((resolve) => setTimeout(resolve, ms));
    await Promise.all(this.connections.map((connection) => connection.stop()));
    return { ...tally, elapsedMs: performance.now() - startedAt };
  }

  close(): void {
    for (const connection of this.connections) connection.close();
  }
}
