import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createProxy, type ProxyServer } from 'proxy';

export interface SeenConnect {
  /** The CONNECT target, `host:port`. */
  readonly target: string;
  readonly proxyAuthorization: string | undefined;
}

export interface ProxyCredentials {
  readonly user: string;
  readonly password: string;
}

/** `Basic base64(user:password)`, as a client sends it in `Proxy-Authorization`. */
export function basicCredentials({ user, password }: ProxyCredentials): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

const LOOPBACK_TARGET = /^127\.0\.0\.1:\d+$/;

/**
 * A real CONNECT proxy (the `proxy` package) on a random loopback port. It records every CONNECT,
 * asks for `credentials` when given (407 otherwise), and tunnels to loopback targets only.
 */
export class LoopbackProxy {
  readonly connects: SeenConnect[] = [];
  readonly #server: ProxyServer;
  readonly #sockets = new Set<Socket>();
  /** Client connections the client has not hung up on (no end, no close). */
  readonly #open = new Set<Socket>();

  private constructor(credentials: ProxyCredentials | null) {
    this.#server = createProxy(createServer());
    this.#server.prependListener('connect', (request: IncomingMessage) => {
      this.connects.push({ target: request.url ?? '', proxyAuthorization: request.headers['proxy-authorization'] });
    });
    this.#server.authenticate = (request) =>
      LOOPBACK_TARGET.test(request.url ?? '') &&
      (credentials === null || request.headers['proxy-authorization'] === basicCredentials(credentials));
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      this.#open.add(socket);
      socket.once('end', () => this.#open.delete(socket));
      socket.once('close', () => {
        this.#open.delete(socket);
        this.#sockets.delete(socket);
      });
    });
  }

  static async start(credentials: ProxyCredentials | null = null): Promise<LoopbackProxy> {
    const proxy = new LoopbackProxy(credentials);
    proxy.#server.listen(0, '127.0.0.1');
    await once(proxy.#server, 'listening');
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Client connections still open: the client has neither ended nor closed them. */
  get openConnections(): number {
    return this.#open.size;
  }

  /** `host:port`, as the agent names the proxy. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The proxy URL, with `credentials` in it when given (percent-encoded). */
  url(credentials: ProxyCredentials | null = null): string {
    const userinfo = credentials === null ? '' : `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@`;
    return `http://${userinfo}127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
