import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A raw TCP server on a random loopback port that accepts every connection and never says a word:
 * an https client connecting to it completes the TCP handshake but never the TLS one.
 */
export class SilentTcpServer {
  connections = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor() {
    this.#server = createServer((socket) => {
      this.connections += 1;
      this.#sockets.add(socket);
      socket.on('error', () => undefined); // the client hanging up is expected
      socket.resume(); // reads and drops what the client says, so that its hanging up is seen
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<SilentTcpServer> {
    const server = new SilentTcpServer();
    server.#server.listen(0, '127.0.0.1');
    await once(server.#server, 'listening');
    return server;
  }

  /** Connections still open (the client has not hung up). */
  get open(): number {
    return this.#sockets.size;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A loopback port that was listening a moment ago and is closed now: connecting to it is refused. */
export async function closedLoopbackPort(): Promise<number> {
  const server = await SilentTcpServer.start();
  const { port } = server;
  await server.stop();
  return port;
}
