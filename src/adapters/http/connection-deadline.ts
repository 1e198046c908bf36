import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

export type DeadlinePhase = 'connect' | 'read';

/**
 * Two timeouts for one request on one abort signal: `connect` runs until the socket is connected
 * (after the TLS handshake for https), then `read` runs until the response has been read whole.
 * node-fetch has a single signal, so the agent it uses tells us when the socket connects.
 */
export class ConnectionDeadline {
  readonly #controller = new AbortController();
  readonly agent: http.Agent;
  #timer: NodeJS.Timeout;
  #expired: DeadlinePhase | null = null;

  constructor(
    url: URL,
    private readonly connectTimeoutMs: number,
    private readonly readTimeoutMs: number,
  ) {
    const secure = url.protocol === 'https:';
    this.agent = secure ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
    const createConnection = this.agent.createConnection.bind(this.agent);
    this.agent.createConnection = (options, callback) => {
      const socket = createConnection(options, callback) as Duplex | null | undefined;
      socket?.once(secure ? 'secureConnect' : 'connect', () => this.#startReading());
      return socket;
    };
    this.#timer = this.#arm('connect', connectTimeoutMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The phase whose timeout fired, if one did. */
  get expired(): DeadlinePhase | null {
    return this.#expired;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.agent.destroy();
  }

  #startReading(): void {
    clearTimeout(this.#timer);
    this.#timer = this.#arm('read', this.readTimeoutMs);
  }

  #arm(phase: DeadlinePhase, ms: number): NodeJS.Timeout {
    return setTimeout(() => {
      this.#expired = phase;
      this.#controller.abort();
    }, ms);
  }
}
