import fetch, { FetchError, type Response } from 'node-fetch';
import { BackendError } from '../../domain/model/errors.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import type { Clock } from '../../ports/clock.port.js';
import type { IssuedToken, TokenBackend, TokenRequest } from '../../ports/token-backend.port.js';
import { ConnectionDeadline } from './connection-deadline.js';
import type { ProxyRoute } from './proxy-route.js';
import { tokenRequestBody } from './token-request.js';
import { backendErrorBody, parseIssuedToken, parseRetryAfter } from './token-response.js';

export const TOKEN_PATH = 'api/v1/licenses/token';
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface HttpTokenBackendOptions {
  /** Base URL of the license backend; validated by configuration (https, or http on loopback). */
  readonly baseUrl: URL;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  /** The proxy in the way (`proxyRouteFor`); null or absent: direct. */
  readonly proxy?: ProxyRoute | null;
}

/**
 * `POST {base}/api/v1/licenses/token` with node-fetch, the body of `tokenRequestBody` (the usage
 * counters included when the request carries them). Never follows redirects (the API key must
 * not travel to another host), bounds every phase in time and the answer in size, and turns every
 * failure into a `BackendError` that names the cause but never the key.
 */
export class HttpTokenBackend implements TokenBackend {
  readonly #endpoint: URL;
  readonly #proxy: ProxyRoute | null;

  constructor(
    private readonly options: HttpTokenBackendOptions,
    private readonly clock: Clock,
    private readonly gate: TextGate,
  ) {
    const base = new URL(options.baseUrl);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.#endpoint = new URL(TOKEN_PATH, base);
    this.#proxy = options.proxy ?? null;
  }

  async requestToken(request: TokenRequest): Promise<IssuedToken> {
    const { apiKey, agentVersion } = request;
    const deadline = new ConnectionDeadline(this.#endpoint, this.#proxy, this.options.connectTimeoutMs, this.options.readTimeoutMs);
    try {
      const response = await fetch(this.#endpoint, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${apiKey}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'User-Agent': `softclient4es-license-agent/${agentVersion}`,
        },
        body: tokenRequestBody(request),
        redirect: 'manual',
        signal: deadline.signal,
        agent: deadline.agent,
        size: MAX_RESPONSE_BYTES,
      });
      // A refused CONNECT is replayed as the response: the proxy's answer, never read as the backend's.
      const refused = this.#tunnelRefused(deadline);
      if (refused !== null) throw refused;
      return this.#interpret(response, await readBody(response));
    } catch (error) {
      throw error instanceof BackendError ? error : this.#translate(error, deadline);
    } finally {
      deadline.dispose();
    }
  }

  #interpret(response: Response, body: string): IssuedToken {
    const { status } = response;
    if (status === 200) return parseIssuedToken(body, this.gate);
    const errorBody = backendErrorBody(body, this.gate);
    if (status === 401 && errorBody !== null) {
      throw new BackendError('BACKEND.REJECTED', errorBody.reason ?? 'the API key was rejected', { status });
    }
    if (status === 401 || status === 407) {
      // Not the backend's own verdict: an intercepting or authenticating proxy answered (DESIGN §4).
      throw new BackendError('BACKEND.UNEXPECTED_STATUS', `HTTP ${status} without the license backend's JSON error (a proxy in the way?)`, {
        status,
      });
    }
    if (status >= 300 && status < 400) {
      throw new BackendError('BACKEND.REDIRECT_REFUSED', `license backend answered HTTP ${status} (redirects are never followed)`, { status });
    }
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.clock.now());
    const reason = errorBody?.reason ?? null;
    const detail = reason === null ? '' : `: ${reason}`;
    throw new BackendError('BACKEND.HTTP_STATUS', `license backend answered HTTP ${status}${detail}`, { status, retryAfterMs });
  }

  #translate(error: unknown, deadline: ConnectionDeadline): BackendError {
    const host = this.#endpoint.host;
    const proxy = this.#proxy;
    const where = proxy === null ? host : `${host} through proxy ${proxy.host}`;
    if (deadline.expired === 'connect') {
      return new BackendError('BACKEND.TIMEOUT', `could not connect to the license backend at ${where} within ${this.options.connectTimeoutMs} ms`, { cause: error });
    }
    if (deadline.expired === 'read') {
      return new BackendError('BACKEND.TIMEOUT', `license backend at ${where} did not answer within ${this.options.readTimeoutMs} ms`, { cause: error });
    }
    const refused = this.#tunnelRefused(deadline);
    if (refused !== null) return refused;
    if (error instanceof FetchError && error.type === 'max-size') return tooLarge();
    const code = error instanceof FetchError ? error.code : undefined;
    if (proxy !== null && deadline.proxyStatus === null) {
      // No tunnel yet: whatever failed was the proxy (its address, its connection, its answer).
      const reason = code === undefined ? 'no answer to CONNECT' : describeNetworkError(code);
      return new BackendError('BACKEND.UNREACHABLE', `proxy at ${proxy.host} for the license backend at ${host} is unreachable (${reason})`, { cause: error });
    }
    return new BackendError('BACKEND.UNREACHABLE', `license backend at ${where} is unreachable (${describeNetworkError(code)})`, { cause: error });
  }

  /** The proxy answered CONNECT with something other than 200: transient, whatever the status (DESIGN §4). */
  #tunnelRefused({ proxyStatus: status }: ConnectionDeadline): BackendError | null {
    if (this.#proxy === null || status === null || status === 200) return null;
    const valid = Number.isInteger(status);
    const answer = !valid ? 'an answer that is not HTTP' : status === 407 ? 'HTTP 407 (proxy authentication required: check the proxy credentials)' : `HTTP ${status}`;
    return new BackendError(
      'BACKEND.UNEXPECTED_STATUS',
      `proxy at ${this.#proxy.host} refused the tunnel to the license backend at ${this.#endpoint.host} with ${answer}`,
      { status: valid ? status : null },
    );
  }
}

async function readBody(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > MAX_RESPONSE_BYTES) throw tooLarge(response.status); // the socket is dropped unread
  return response.text(); // node-fetch stops past MAX_RESPONSE_BYTES (`size`)
}

function tooLarge(status: number | null = null): BackendError {
  return new BackendError('BACKEND.RESPONSE_TOO_LARGE', `license backend answer exceeds ${MAX_RESPONSE_BYTES} bytes`, { status });
}

const NETWORK_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

function describeNetworkError(code: string | undefined): string {
  if (code === undefined) return 'network error';
  return NETWORK_ERRORS[code] ?? code;
}
