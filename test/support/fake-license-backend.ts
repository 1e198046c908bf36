import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** Where the agent asks for tokens (DESIGN §4). */
export const TOKEN_REQUEST_PATH = '/api/v1/licenses/token';

export type BackendHandler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

/**
 * A real HTTP server on a random loopback port playing the license backend. Every request is
 * recorded; the handler can be replaced between calls.
 */
export class FakeLicenseBackend {
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #handler: BackendHandler;

  private constructor(handler: BackendHandler) {
    this.#handler = handler;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(handler: BackendHandler = respondJson(404, { error: 'not_scripted' })): Promise<FakeLicenseBackend> {
    const backend = new FakeLicenseBackend(handler);
    backend.#server.listen(0, '127.0.0.1');
    await once(backend.#server, 'listening');
    return backend;
  }

  /**
   * The JSON bodies of the token requests received so far, in order (a body that is not JSON as
   * its raw text), so that a test can assert exactly what the agent sent.
   */
  tokenRequestBodies(): unknown[] {
    return this.requests
      .filter((request) => request.method === 'POST' && request.url.endsWith(TOKEN_REQUEST_PATH))
      .map((request) => {
        try {
          return JSON.parse(request.body) as unknown;
        } catch {
          return request.body;
        }
      });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  handle(handler: BackendHandler): this {
    this.#handler = handler;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    this.requests.push(recorded);
    try {
      await this.#handler(recorded, res);
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  }
}

/** A handler answering `status` with `body` as JSON. */
export function respondJson(status: number, body: unknown, headers: Record<string, string> = {}): BackendHandler {
  return (_request, response) => {
    response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };
}

/** A handler issuing `jwt` the way the real backend does. */
export function issueToken(jwt: string | (() => string | Promise<string>), message: string | null = null): BackendHandler {
  return async (request, response) => {
    const token = typeof jwt === 'function' ? await jwt() : jwt;
    await respondJson(200, { jwt: token, expires_in: 86_400, message })(request, response);
  };
}
