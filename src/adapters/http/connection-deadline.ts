import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { ProxyRoute } from './proxy-route.js';

export type DeadlinePhase = 'connect' | 'read';

/**
 * Two timeouts for one request on one abort signal: `connect` runs until the connection to the
 * backend is established — the socket connected, or through a proxy the CONNECT tunnel open — and,
 * for https, the TLS handshake with the backend done; then `read` runs until the response has been
 * read whole. node-fetch has a single signal, so the agent it uses tells us when that moment comes.
 */
export class ConnectionDeadline {
  readonly #controller = new AbortController();
  /** Destroys a socket to the proxy still waiting for the answer to CONNECT: no agent tracks it yet. */
  readonly #pendingTunnel = new AbortController();
  readonly agent: http.Agent;
  #timer: NodeJS.Timeout;
  #expired: DeadlinePhase | null = null;
  #proxyStatus: number | null = null;

  constructor(
    url: URL,
    proxy: ProxyRoute | null,
    connectTimeoutMs: number,
    private readonly readTimeoutMs: number,
  ) {
    this.agent = proxy === null ? this.#directAgent(url.protocol === 'https:') : this.#tunnelAgent(proxy);
    this.#timer = this.#arm('connect', connectTimeoutMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The phase whose timeout fired, if one did. */
  get expired(): DeadlinePhase | null {
    return this.#expired;
  }

  /** The status of the proxy's answer to CONNECT (200: the tunnel is open); null before it answered or without a proxy. */
  get proxyStatus(): number | null {
    return this.#proxyStatus;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    if (this.#proxyStatus === null) this.#pendingTunnel.abort();
    this.agent.destroy();
  }

  #directAgent(secure: boolean): http.Agent {
    const agent = secure ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
    const createConnection = agent.createConnection.bind(agent);
    agent.createConnection = (options, callback) => {
      const socket = createConnection(options, callback) as Duplex | null | undefined;
      socket?.once(secure ? 'secureConnect' : 'connect', () => this.#startReading());
      return socket;
    };
    return agent;
  }

  #tunnelAgent(proxy: ProxyRoute): http.Agent {
    const agent = new TunnelAgent(proxy, this.#pendingTunnel.signal, (socket, secure) => {
      if (this.#proxyStatus !== 200) return; // refused: the proxy's answer is replayed at once
      if (secure) socket.once('secureConnect', () => this.#startReading());
      else this.#startReading();
    });
    agent.on('proxyConnect', ({ statusCode }: { statusCode: number }) => {
      this.#proxyStatus = statusCode;
    });
    return agent;
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

type ConnectOptions = Parameters<HttpsProxyAgent<string>['connect']>[1];
type ConnectedSocket = Awaited<ReturnType<HttpsProxyAgent<string>['connect']>>;

/**
 * https-proxy-agent: always a CONNECT tunnel (for an http:// backend too, so the proxy never reads
 * the request and its bearer key), credentials only in a `Proxy-Authorization` header, never in the
 * proxy URL the library holds (and may quote), and one callback once the tunnel is answered.
 */
class TunnelAgent extends HttpsProxyAgent<string> {
  constructor(
    route: ProxyRoute,
    signal: AbortSignal,
    private readonly answered: (socket: ConnectedSocket, secure: boolean) => void,
  ) {
    super(route.url, {
      keepAlive: false,
      signal,
      headers: route.authorization === null ? {} : { 'Proxy-Authorization': route.authorization },
    });
  }

  override async connect(req: http.ClientRequest, options: ConnectOptions): Promise<ConnectedSocket> {
    const socket = await super.connect(req, options);
    this.answered(socket, options.secureEndpoint);
    return socket;
  }
}
