import { stoppedAfterEach } from '../../support/stopped-after-each.js';
import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { HttpTokenBackend } from '../../../src/adapters/http/http-token-backend.js';
import { loadConfig } from '../../../src/app/config.js';
import { textGateFor } from '../../../src/app/create-license-agent.js';
import { backendProxy } from '../../../src/app/modules/http-backend.module.js';
import { parseApiKey } from '../../../src/domain/model/api-key.js';
import { BackendError } from '../../../src/domain/model/errors.js';
import type { IssuedToken, TokenRequest } from '../../../src/ports/token-backend.port.js';
import { FakeLicenseBackend, issueToken, respondJson, type BackendHandler } from '../../support/fake-license-backend.js';
import { FixedClock } from '../../support/fixed-clock.js';
import { basicCredentials, LoopbackProxy, type ProxyCredentials } from '../../support/loopback-proxy.js';
import { closedLoopbackPort, SilentTcpServer } from '../../support/silent-tcp-server.js';
import { waitUntil } from '../../support/waiting.js';

const API_KEY = parseApiKey('sk-live-proxy-integration-7c21');
const REQUEST: TokenRequest = { apiKey: API_KEY, instanceId: '6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f', agentVersion: '1.4.2' };
const JWT = 'eyJhbGciOiJFZERTQSJ9.eyJ0aWVyIjoicHJvIn0.c2lnbmF0dXJl';
const TOKEN_PATH = '/api/v1/licenses/token';
/** A password that must be percent-encoded in a URL: it shows up in two forms, both secret. */
const CREDENTIALS: ProxyCredentials = { user: 'agent-user', password: 'hunter2/Pr0xy@pass' };

/** The timeout expected to fire; the other phase gets LONG, so a mix-up shows as the wrong message. */
const SHORT_MS = 200;
const LONG_MS = 5_000;

/** Every server a test starts is stopped after it. */
const started = stoppedAfterEach();

const backendAnswering = (handler: BackendHandler) => started(FakeLicenseBackend.start(handler));
const proxyServer = (credentials: ProxyCredentials | null = null) => started(LoopbackProxy.start(credentials));

interface Timeouts {
  readonly connectTimeoutMs?: number;
  readonly readTimeoutMs?: number;
}

/** The backend client as the agent builds it: from the environment, through `loadConfig` and the module's proxy choice. */
function clientFor(backendUrl: string, env: Record<string, string>, { connectTimeoutMs = LONG_MS, readTimeoutMs = LONG_MS }: Timeouts = {}) {
  const config = loadConfig(
    {
      SOFTCLIENT4ES_LICENSE_URL: backendUrl,
      SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT: `${connectTimeoutMs}ms`,
      SOFTCLIENT4ES_LICENSE_READ_TIMEOUT: `${readTimeoutMs}ms`,
      ...env,
    },
    '/home/operator',
  );
  const options = { baseUrl: config.backendUrl, connectTimeoutMs: config.connectTimeoutMs, readTimeoutMs: config.readTimeoutMs, proxy: backendProxy(config) };
  return new HttpTokenBackend(options, new FixedClock(), textGateFor(config));
}

function messagesOf(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) messages.push(current.message, current.stack ?? '');
  return messages.join('\n');
}

/** Every form in which proxy credentials could leak: as written in the URL, decoded, as sent. */
function credentialForms({ user, password }: ProxyCredentials): string[] {
  return [password, encodeURIComponent(password), `${user}:${password}`, basicCredentials({ user, password }).slice('Basic '.length)];
}

/** Expects a BackendError; no message or stack in its cause chain reveals the API key or the proxy credentials. */
async function failureOf(client: HttpTokenBackend, credentials: ProxyCredentials = CREDENTIALS): Promise<BackendError> {
  let token: IssuedToken;
  try {
    token = await client.requestToken(REQUEST);
  } catch (error) {
    if (!(error instanceof BackendError)) throw error;
    const text = messagesOf(error);
    for (const secret of [API_KEY.slice('sk-'.length), ...credentialForms(credentials)]) expect(text).not.toContain(secret);
    return error;
  }
  throw new Error(`expected a BackendError, got ${JSON.stringify(token)}`);
}

const hostOf = (url: string) => new URL(url).host;

/** A raw TCP server playing a proxy: `onConnect` gets the client socket once the CONNECT request has arrived. */
class ScriptedProxy {
  readonly #sockets = new Set<Socket>();

  private constructor(readonly server: Server) {
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(onConnect: (socket: Socket) => void): Promise<ScriptedProxy> {
    const proxy = new ScriptedProxy(createServer((socket) => socket.once('data', () => onConnect(socket))));
    proxy.server.listen(0, '127.0.0.1');
    await once(proxy.server, 'listening');
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('HttpTokenBackend behind a proxy (a real CONNECT proxy on loopback)', () => {
  describe('choosing the proxy', () => {
    it.each(['HTTP_PROXY', 'http_proxy'])('%s: the request to an http:// backend goes through a CONNECT tunnel to it', async (variable) => {
      const backend = await backendAnswering(issueToken(JWT));
      const proxy = await proxyServer();

      await expect(clientFor(backend.url, { [variable]: proxy.url() }).requestToken(REQUEST)).resolves.toMatchObject({ jwt: JWT });

      expect(proxy.connects).toEqual([{ target: hostOf(backend.url), proxyAuthorization: undefined }]);
      expect(backend.requests).toHaveLength(1);
      expect(backend.requests[0]).toMatchObject({ method: 'POST', url: TOKEN_PATH, headers: { authorization: `Bearer ${API_KEY}` } });
    });

    it('lower case wins over upper case, as proxy-from-env reads them', async () => {
      const backend = await backendAnswering(issueToken(JWT));
      const proxy = await proxyServer();
      const closed = await closedLoopbackPort();

      await clientFor(backend.url, { http_proxy: proxy.url(), HTTP_PROXY: `http://127.0.0.1:${closed}` }).requestToken(REQUEST);

      expect(proxy.connects).toHaveLength(1);
    });

    it('HTTPS_PROXY is for https:// backends: an http:// one goes direct, an https:// one through the tunnel', async () => {
      const backend = await backendAnswering(issueToken(JWT));
      const silent = await started(SilentTcpServer.start()); // accepts TCP, never speaks TLS
      const proxy = await proxyServer();

      await clientFor(backend.url, { HTTPS_PROXY: proxy.url() }).requestToken(REQUEST);
      expect(proxy.connects).toEqual([]);
      expect(backend.requests).toHaveLength(1);

      const error = await failureOf(clientFor(`https://127.0.0.1:${silent.port}`, { https_proxy: proxy.url() }, { connectTimeoutMs: SHORT_MS }));
      expect(proxy.connects).toEqual([{ target: `127.0.0.1:${silent.port}`, proxyAuthorization: undefined }]);
      // The tunnel was open, the TLS handshake with the backend never finished: still connecting.
      expect(error.code).toBe('BACKEND.TIMEOUT');
      expect(error.message).toBe(`could not connect to the license backend at 127.0.0.1:${silent.port} through proxy ${proxy.host} within ${SHORT_MS} ms`);
    });

    it('through the tunnel the agent speaks TLS with the backend itself: a certificate it does not trust is refused', async () => {
      const fixture = (name: string) => readFileSync(new URL(`../../fixtures/tls/${name}`, import.meta.url));
      let requests = 0;
      const untrusted = createHttpsServer({ key: fixture('localhost.key'), cert: fixture('localhost.crt') }, (_request, response) => {
        requests += 1;
        response.end();
      });
      const sockets = new Set<Socket>();
      untrusted.on('connection', (socket: Socket) => sockets.add(socket));
      untrusted.listen(0, '127.0.0.1');
      await once(untrusted, 'listening');
      await started(Promise.resolve({
        stop: async () => {
          for (const socket of sockets) socket.destroy();
          await new Promise<void>((resolve) => untrusted.close(() => resolve()));
        },
      }));
      const target = `127.0.0.1:${(untrusted.address() as AddressInfo).port}`;
      const proxy = await proxyServer();

      const error = await failureOf(clientFor(`https://${target}`, { HTTPS_PROXY: proxy.url() }));

      expect(proxy.connects).toEqual([{ target, proxyAuthorization: undefined }]);
      expect(error.code).toBe('BACKEND.UNREACHABLE');
      expect(error.message).toBe(`license backend at ${target} through proxy ${proxy.host} is unreachable (DEPTH_ZERO_SELF_SIGNED_CERT)`);
      expect(requests).toBe(0);
    });

    it.each([
      ['NO_PROXY', '127.0.0.1'],
      ['NO_PROXY', '*'],
      ['no_proxy', 'license.example.com, 127.0.0.1'],
    ])('%s=%s bypasses the proxy that otherwise carries the request', async (variable, noProxy) => {
      const backend = await backendAnswering(issueToken(JWT));
      const proxy = await proxyServer();

      await clientFor(backend.url, { HTTP_PROXY: proxy.url() }).requestToken(REQUEST);
      await clientFor(backend.url, { HTTP_PROXY: proxy.url(), [variable]: noProxy }).requestToken(REQUEST);

      expect(proxy.connects).toHaveLength(1);
      expect(backend.requests).toHaveLength(2);
    });

    it('NO_PROXY naming other hosts or another port does not bypass it', async () => {
      const backend = await backendAnswering(issueToken(JWT));
      const proxy = await proxyServer();

      await clientFor(backend.url, { HTTP_PROXY: proxy.url(), NO_PROXY: `license.example.com,127.0.0.1:1` }).requestToken(REQUEST);

      expect(proxy.connects).toHaveLength(1);
    });
  });

  describe('proxy credentials', () => {
    it('are sent percent-decoded in Proxy-Authorization with CONNECT, and the proxy lets the request through', async () => {
      const backend = await backendAnswering(issueToken(JWT));
      const proxy = await proxyServer(CREDENTIALS);

      await expect(clientFor(backend.url, { HTTP_PROXY: proxy.url(CREDENTIALS) }).requestToken(REQUEST)).resolves.toMatchObject({ jwt: JWT });

      expect(proxy.connects).toEqual([{ target: hostOf(backend.url), proxyAuthorization: basicCredentials(CREDENTIALS) }]);
      expect(backend.requests[0]?.headers['proxy-authorization']).toBeUndefined(); // only the proxy sees them
    });

    it.each<[string, ProxyCredentials | null]>([
      ['no credentials', null],
      ['wrong credentials', { user: CREDENTIALS.user, password: 'wrong-Pr0xy-password' }],
    ])('a 407 for %s is transient BACKEND.UNEXPECTED_STATUS naming the proxy host only', async (_case, given) => {
      const backend = await backendAnswering(issueToken(JWT));
      const proxy = await proxyServer(CREDENTIALS);
      const error = await failureOf(clientFor(backend.url, { HTTP_PROXY: proxy.url(given) }), given ?? CREDENTIALS);

      expect(error.code).toBe('BACKEND.UNEXPECTED_STATUS');
      expect(error.status).toBe(407);
      expect(error.transient).toBe(true);
      expect(error.message).toBe(
        `proxy at ${proxy.host} refused the tunnel to the license backend at ${hostOf(backend.url)} with HTTP 407 (proxy authentication required: check the proxy credentials)`,
      );
      expect(backend.requests).toHaveLength(0);
    });

    it('a 401 with the backend\'s JSON error, from the proxy, is transient: only the backend can revoke', async () => {
      const body = JSON.stringify({ error: 'api_key_revoked', message: 'revoked' });
      const proxy = await started(
        ScriptedProxy.start((socket) => {
          socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        }),
      );
      const backend = await backendAnswering(issueToken(JWT));
      const error = await failureOf(clientFor(backend.url, { HTTP_PROXY: proxy.url }));

      expect(error.code).toBe('BACKEND.UNEXPECTED_STATUS');
      expect(error.status).toBe(401);
      expect(error.transient).toBe(true);
      expect(error.message).toMatch(/^proxy at 127\.0\.0\.1:\d+ refused the tunnel to the license backend at .* with HTTP 401$/);
    });
  });

  describe('an unreachable or silent proxy', () => {
    it('a refused connection is BACKEND.UNREACHABLE naming the proxy', async () => {
      const backend = await backendAnswering(issueToken(JWT));
      const port = await closedLoopbackPort();
      const error = await failureOf(clientFor(backend.url, { HTTP_PROXY: `http://${CREDENTIALS.user}:${encodeURIComponent(CREDENTIALS.password)}@127.0.0.1:${port}` }));

      expect(error.code).toBe('BACKEND.UNREACHABLE');
      expect(error.transient).toBe(true);
      expect(error.message).toBe(`proxy at 127.0.0.1:${port} for the license backend at ${hostOf(backend.url)} is unreachable (connection refused)`);
      expect(backend.requests).toHaveLength(0);
    });

    it('a proxy that hangs up without answering CONNECT is BACKEND.UNREACHABLE naming the proxy', async () => {
      const proxy = await started(ScriptedProxy.start((socket) => socket.end()));
      const backend = await backendAnswering(issueToken(JWT));
      const error = await failureOf(clientFor(backend.url, { HTTP_PROXY: proxy.url }));

      expect(error.code).toBe('BACKEND.UNREACHABLE');
      expect(error.message).toMatch(new RegExp(`^proxy at ${hostOf(proxy.url)} for the license backend at ${hostOf(backend.url)} is unreachable \\(`));
    });

    it.each(['http', 'https'])('an %s:// proxy that accepts the connection and never answers is cut by the connect deadline, its socket closed', async (scheme) => {
      const backend = await backendAnswering(issueToken(JWT));
      const silent = await started(SilentTcpServer.start());
      const proxyUrl = `${scheme}://${CREDENTIALS.user}:${encodeURIComponent(CREDENTIALS.password)}@127.0.0.1:${silent.port}`;
      const error = await failureOf(clientFor(backend.url, { HTTP_PROXY: proxyUrl }, { connectTimeoutMs: SHORT_MS }));

      expect(silent.connections).toBe(1);
      expect(error.code).toBe('BACKEND.TIMEOUT');
      expect(error.transient).toBe(true);
      expect(error.message).toBe(`could not connect to the license backend at ${hostOf(backend.url)} through proxy 127.0.0.1:${silent.port} within ${SHORT_MS} ms`);
      await waitUntil(() => silent.open === 0, 'the agent closed its connection to the silent proxy', 2_000);
      expect(backend.requests).toHaveLength(0);
    });
  });

  describe('deadlines, size and redirects through the tunnel', () => {
    it('a backend that hangs behind a working proxy is cut by the read deadline', async () => {
      const backend = await backendAnswering(() => undefined);
      const proxy = await proxyServer();
      const error = await failureOf(clientFor(backend.url, { HTTP_PROXY: proxy.url() }, { readTimeoutMs: SHORT_MS }));

      expect(proxy.connects).toHaveLength(1);
      expect(backend.requests).toHaveLength(1);
      expect(error.code).toBe('BACKEND.TIMEOUT');
      expect(error.message).toBe(`license backend at ${hostOf(backend.url)} through proxy ${proxy.host} did not answer within ${SHORT_MS} ms`);
    });

    it('the connect deadline stops once the tunnel is open: a slow but timely backend is accepted', async () => {
      const backend = await backendAnswering(async (request, response) => {
        await delay(2 * SHORT_MS);
        await issueToken(JWT)(request, response);
      });
      const proxy = await proxyServer();

      await expect(clientFor(backend.url, { HTTP_PROXY: proxy.url() }, { connectTimeoutMs: SHORT_MS }).requestToken(REQUEST)).resolves.toMatchObject({
        jwt: JWT,
      });
      expect(proxy.connects).toHaveLength(1);
    });

    it('an answer over 64 KiB is refused and the tunnel dropped before the backend has written it all', async () => {
      const total = 32 * 1024 * 1024;
      let written = 0;
      const backend = await backendAnswering(async (_request, response) => {
        response.on('error', () => undefined);
        const closed = new Promise<void>((resolve) => response.once('close', () => resolve()));
        response.writeHead(200, { 'Content-Type': 'application/json' }); // chunked
        const chunk = Buffer.alloc(16 * 1024, ' ');
        while (written < total && !response.destroyed) {
          written += chunk.length;
          if (!response.write(chunk)) await Promise.race([new Promise((resolve) => response.once('drain', resolve)), closed]);
        }
        response.end();
      });
      const proxy = await proxyServer();
      const error = await failureOf(clientFor(backend.url, { HTTP_PROXY: proxy.url() }));

      expect(proxy.connects).toHaveLength(1);
      expect(error.code).toBe('BACKEND.RESPONSE_TOO_LARGE');
      expect(error.message).toBe(`license backend answer exceeds ${64 * 1024} bytes`);
      await waitUntil(() => proxy.openConnections === 0, 'the agent hung up on the proxy', 5_000);
      expect(written).toBeLessThan(total);
    });

    it('a redirect is not followed: the other server receives nothing (BACKEND.REDIRECT_REFUSED)', async () => {
      const elsewhere = await backendAnswering(issueToken(JWT));
      const backend = await backendAnswering(respondJson(302, {}, { Location: `${elsewhere.url}${TOKEN_PATH}` }));
      const proxy = await proxyServer();
      const error = await failureOf(clientFor(backend.url, { HTTP_PROXY: proxy.url() }));

      expect(error.code).toBe('BACKEND.REDIRECT_REFUSED');
      expect(proxy.connects).toEqual([{ target: hostOf(backend.url), proxyAuthorization: undefined }]);
      expect(elsewhere.requests).toHaveLength(0);
    });
  });
});
