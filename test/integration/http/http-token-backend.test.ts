import { stoppedAfterEach } from '../../support/stopped-after-each.js';
import { describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { HttpTokenBackend, MAX_RESPONSE_BYTES } from '../../../src/adapters/http/http-token-backend.js';

/** The response cap, stated here rather than imported: a changed constant must fail these tests. */
const LIMIT = 64 * 1024;
import { parseApiKey } from '../../../src/domain/model/api-key.js';
import { TextGate } from '../../../src/domain/model/safe-text.js';
import { BackendError } from '../../../src/domain/model/errors.js';
import type { IssuedToken, TokenRequest } from '../../../src/ports/token-backend.port.js';
import {
  FakeLicenseBackend,
  issueToken,
  respondJson,
  type BackendHandler,
  type RecordedRequest,
} from '../../support/fake-license-backend.js';
import { FixedClock, MINUTE, SECOND } from '../../support/fixed-clock.js';
import { UsageReportingTokenBackend } from '../../../src/app/telemetry/usage-reporting-token-backend.js';
import { UsageCounters } from '../../../src/domain/telemetry/usage-counters.js';
import { closedLoopbackPort, SilentTcpServer } from '../../support/silent-tcp-server.js';

const API_KEY = parseApiKey('sk-live-integration-5ecret-9f3a');
const REQUEST: TokenRequest = { apiKey: API_KEY, instanceId: '6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f', agentVersion: '1.4.2' };
const JWT = 'eyJhbGciOiJFZERTQSJ9.eyJ0aWVyIjoicHJvIn0.c2lnbmF0dXJl';
const TOKEN_PATH = '/api/v1/licenses/token';

/** The timeout expected to fire; the other phase gets LONG, so a mix-up shows as the wrong message. */
const SHORT_MS = 200;
const LONG_MS = 5_000;

/** Every server a test starts is stopped after it. */
const started = stoppedAfterEach();

const backendAnswering = (handler: BackendHandler) => started(FakeLicenseBackend.start(handler));

interface ClientOptions {
  readonly connectTimeoutMs?: number;
  readonly readTimeoutMs?: number;
  readonly clock?: FixedClock;
}

function clientFor(baseUrl: string, { connectTimeoutMs = LONG_MS, readTimeoutMs = LONG_MS, clock = new FixedClock() }: ClientOptions = {}) {
  return new HttpTokenBackend({ baseUrl: new URL(baseUrl), connectTimeoutMs, readTimeoutMs }, clock, new TextGate());
}

function messagesOf(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) messages.push(current.message);
  return messages.join('\n');
}

/** Expects the request to fail with a BackendError, and checks that no message in its cause chain reveals the key. */
async function failureOf(client: HttpTokenBackend): Promise<BackendError> {
  let token: IssuedToken;
  try {
    token = await client.requestToken(REQUEST);
  } catch (error) {
    if (!(error instanceof BackendError)) throw error;
    expect(messagesOf(error)).not.toContain(API_KEY.slice('sk-'.length));
    return error;
  }
  throw new Error(`expected a BackendError, got ${JSON.stringify(token)}`);
}

function onlyRequest(backend: FakeLicenseBackend): RecordedRequest {
  expect(backend.requests).toHaveLength(1);
  const [request] = backend.requests;
  if (request === undefined) throw new Error('no request recorded');
  return request;
}

type Framing = 'content-length' | 'chunked';

interface RawAnswerOptions {
  readonly framing?: Framing;
  readonly headers?: Record<string, string>;
}

/** Answers `status` with `body` verbatim (not necessarily JSON), framed as asked. */
function respondRaw(status: number, body: string, { framing = 'content-length', headers = {} }: RawAnswerOptions = {}): BackendHandler {
  return (_request, response) => {
    const length = framing === 'chunked' ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(Buffer.byteLength(body)) };
    response.writeHead(status, { 'Content-Type': 'application/json', ...length, ...headers });
    response.end(body);
  };
}

/** A valid token answer padded with JSON whitespace to exactly `bytes` bytes. */
function tokenAnswerOfSize(bytes: number): string {
  const json = JSON.stringify({ jwt: JWT, expires_in: 86_400, message: null });
  return json.padEnd(bytes, ' ');
}

interface PourOutcome {
  readonly written: number;
  readonly finished: boolean;
}

/**
 * Answers 200 with `total` bytes of filler, written with backpressure until done or until the
 * client hangs up; `outcome` tells how far the server got.
 */
function firehose(total: number, framing: Framing) {
  const pours: Promise<PourOutcome>[] = [];
  const handler: BackendHandler = (_request, response) => {
    pours.push(pour(response, total, framing));
  };
  const outcome = async (): Promise<PourOutcome> => {
    const [first] = pours;
    if (first === undefined) throw new Error('the firehose was never asked');
    return first;
  };
  return { handler, outcome };
}

async function pour(response: ServerResponse, total: number, framing: Framing): Promise<PourOutcome> {
  const closed = new Promise<void>((resolve) => response.once('close', resolve));
  let hungUp = false;
  void closed.then(() => {
    hungUp = true;
  });
  response.on('error', () => undefined); // writes after the client hung up
  const length = framing === 'chunked' ? {} : { 'Content-Length': String(total) };
  response.writeHead(200, { 'Content-Type': 'application/json', ...length });
  const chunk = Buffer.alloc(16 * 1024, ' ');
  let written = 0;
  while (written < total && !hungUp) {
    const size = Math.min(chunk.length, total - written);
    written += size;
    if (!response.write(chunk.subarray(0, size))) await Promise.race([drained(response), closed]);
  }
  if (!hungUp) response.end();
  await closed;
  return { written, finished: response.writableFinished };
}

function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => response.once('drain', () => resolve()));
}

describe('HttpTokenBackend against a real HTTP server', () => {
  describe('the request', () => {
    it('POSTs the instance id and version as JSON, with the API key as bearer token, to {url}/api/v1/licenses/token', async () => {
      const backend = await backendAnswering(issueToken(JWT));
      await clientFor(backend.url).requestToken(REQUEST);

      const request = onlyRequest(backend);
      expect(request.method).toBe('POST');
      expect(request.url).toBe(TOKEN_PATH);
      expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers.accept).toBe('application/json');
      expect(request.headers['user-agent']).toBe('softclient4es-license-agent/1.4.2');
      expect(request.headers.connection).toBe('close'); // one connection per request: nothing pooled between refreshes
      expect(JSON.parse(request.body)).toEqual({ instance_id: REQUEST.instanceId, version: REQUEST.agentVersion });
    });

    it.each([
      ['no path, trailing slash', '/', TOKEN_PATH],
      ['a path prefix', '/license', `/license${TOKEN_PATH}`],
      ['a path prefix with trailing slash', '/license/', `/license${TOKEN_PATH}`],
      ['a nested path prefix', '/eu/license', `/eu/license${TOKEN_PATH}`],
    ])('keeps a base URL with %s (%s) in front of the token path', async (_case, basePath, expectedPath) => {
      const backend = await backendAnswering(issueToken(JWT));
      await clientFor(`${backend.url}${basePath}`).requestToken(REQUEST);

      expect(onlyRequest(backend).url).toBe(expectedPath);
    });
  });

  it('leaves no timer armed once the answer is read (the 60 s deadlines are cleared)', async () => {
    const backend = await backendAnswering(issueToken(JWT));
    const client = clientFor(backend.url, { connectTimeoutMs: 60 * SECOND, readTimeoutMs: 60 * SECOND });
    await client.requestToken(REQUEST); // warm-up: whatever the libraries set up once
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timers();

    await client.requestToken(REQUEST);

    expect(timers()).toBe(before);
  });

  describe('a 200 answer', () => {
    it('is returned as the issued token', async () => {
      const backend = await backendAnswering(respondJson(200, { jwt: JWT, expires_in: 86_400, message: null }));

      await expect(clientFor(backend.url).requestToken(REQUEST)).resolves.toEqual({ jwt: JWT, expiresInSeconds: 86_400, message: null });
    });

    it('carries the backend message for the operator', async () => {
      const backend = await backendAnswering(respondJson(200, { jwt: JWT, expires_in: 3_600, message: 'Your trial ends in 5 days' }));

      await expect(clientFor(backend.url).requestToken(REQUEST)).resolves.toEqual({ jwt: JWT, expiresInSeconds: 3_600, message: 'Your trial ends in 5 days' });
    });

    it('may leave out expires_in and message', async () => {
      const backend = await backendAnswering(respondJson(200, { jwt: JWT }));

      await expect(clientFor(backend.url).requestToken(REQUEST)).resolves.toEqual({ jwt: JWT, expiresInSeconds: null, message: null });
    });

    it.each([['a string', '86400'], ['negative', -5]])('with an expires_in that is %s is accepted: it is advisory', async (_case, expiresIn) => {
      const backend = await backendAnswering(respondRaw(200, JSON.stringify({ jwt: JWT, expires_in: expiresIn })));
      await expect(clientFor(backend.url).requestToken(REQUEST)).resolves.toEqual({ jwt: JWT, expiresInSeconds: null, message: null });
    });

    it.each([
      ['without jwt', JSON.stringify({ expires_in: 86_400, message: null }), /"jwt" is missing or not a non-empty string/],
      ['with a numeric jwt', JSON.stringify({ jwt: 42 }), /"jwt" is missing or not a non-empty string/],
      ['with an empty jwt', JSON.stringify({ jwt: '' }), /"jwt" is missing or not a non-empty string/],
      ['with a non-string message', JSON.stringify({ jwt: JWT, message: { text: 'hi' } }), /"message" is not a string/],
      ['that is malformed JSON', '{"jwt": "eyJ', /not a JSON object/],
      ['that is a JSON array', JSON.stringify([{ jwt: JWT }]), /not a JSON object/],
      ['that is empty', '', /not a JSON object/],
    ])('%s is refused as BACKEND.MALFORMED_RESPONSE', async (_case, body, reason) => {
      const backend = await backendAnswering(respondRaw(200, body));
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.MALFORMED_RESPONSE');
      expect(error.message).toMatch(/^license backend sent a malformed answer: /);
      expect(error.message).toMatch(reason);
      expect(error.status).toBe(200);
      expect(error.transient).toBe(true);
    });
  });

  describe('a 401 answer', () => {
    it('is BACKEND.REJECTED with the backend message, and is not transient', async () => {
      const backend = await backendAnswering(respondJson(401, { error: 'api_key_revoked', message: 'This API key was revoked on 2026-05-30' }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.REJECTED');
      expect(error.message).toBe('This API key was revoked on 2026-05-30');
      expect(error.status).toBe(401);
      expect(error.transient).toBe(false);
    });

    it('falls back to the error code when the backend gives no message', async () => {
      const backend = await backendAnswering(respondJson(401, { error: 'api_key_revoked' }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.REJECTED');
      expect(error.message).toBe('api_key_revoked');
    });

    it('makes the backend message safe for one log line', async () => {
      const backend = await backendAnswering(respondJson(401, { error: 'api_key_revoked', message: 'revoked\n\u001b[31mFAKE LOG LINE' }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.message).toBe('revoked [31mFAKE LOG LINE');
    });

    it('removes the API key the backend quotes in its message (issue 9: it reached /admin/license)', async () => {
      const backend = await backendAnswering(
        respondJson(401, { error: 'api_key_revoked', message: `The API key ${REQUEST.apiKey} was revoked` }),
      );
      const error = await new HttpTokenBackend(
        { baseUrl: new URL(backend.url), connectTimeoutMs: LONG_MS, readTimeoutMs: LONG_MS },
        new FixedClock(),
        new TextGate([REQUEST.apiKey]),
      )
        .requestToken(REQUEST)
        .catch((caught: unknown) => caught as BackendError);

      expect(error.message).toBe('The API key [REDACTED] was revoked');
    });

    it.each([
      ['an HTML page (an intercepting proxy)', '<html>Unauthorized</html>', 'text/html'],
      ['an empty body', '', 'text/plain'],
      ['JSON that is not the backend\'s error', JSON.stringify({ message: 'nope' }), 'application/json'],
    ])('with %s is transient BACKEND.UNEXPECTED_STATUS: only the backend can revoke', async (_case, body, type) => {
      const backend = await backendAnswering(respondRaw(401, body, { headers: { 'Content-Type': type } }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.UNEXPECTED_STATUS');
      expect(error.message).toMatch(/HTTP 401/);
      expect(error.transient).toBe(true);
    });

    it('a 407 from a proxy, even with a JSON error, is transient BACKEND.UNEXPECTED_STATUS', async () => {
      const backend = await backendAnswering(respondJson(407, { error: 'proxy_auth_required' }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.UNEXPECTED_STATUS');
      expect(error.transient).toBe(true);
    });
  });

  describe('other statuses', () => {
    it.each([500, 503, 403, 429])('%i is a transient BACKEND.HTTP_STATUS naming the status', async (status) => {
      const backend = await backendAnswering(respondJson(status, { error: 'busy' }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.HTTP_STATUS');
      expect(error.message).toBe(`license backend answered HTTP ${status}: busy`);
      expect(error.status).toBe(status);
      expect(error.transient).toBe(true);
      expect(error.retryAfterMs).toBeNull();
    });

    it('quotes the backend message when there is one', async () => {
      const backend = await backendAnswering(respondJson(503, { error: 'maintenance', message: 'Back at 02:00 UTC' }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.message).toBe('license backend answered HTTP 503: Back at 02:00 UTC');
    });

    it('names only the status when the body says nothing usable', async () => {
      const backend = await backendAnswering(respondRaw(500, 'Internal Server Error', { headers: { 'Content-Type': 'text/plain' } }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.message).toBe('license backend answered HTTP 500');
    });

    it('reads Retry-After given in seconds', async () => {
      const backend = await backendAnswering(respondJson(503, { error: 'maintenance' }, { 'Retry-After': '120' }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.retryAfterMs).toBe(120 * SECOND);
    });

    it('reads Retry-After given as an HTTP date, relative to the injected clock', async () => {
      const backend = await backendAnswering(respondJson(429, { error: 'slow_down' }, { 'Retry-After': 'Mon, 01 Jun 2026 00:02:00 GMT' }));
      const clock = new FixedClock('2026-06-01T00:00:00Z');

      expect((await failureOf(clientFor(backend.url, { clock }))).retryAfterMs).toBe(2 * MINUTE);
      clock.set('2026-06-01T00:01:30Z');
      expect((await failureOf(clientFor(backend.url, { clock }))).retryAfterMs).toBe(30 * SECOND);
    });

    it('ignores a Retry-After it cannot read', async () => {
      const backend = await backendAnswering(respondJson(503, { error: 'maintenance' }, { 'Retry-After': 'soon' }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.retryAfterMs).toBeNull();
    });
  });

  describe('the classification of a status', () => {
    it.each([
      [300, 'BACKEND.REDIRECT_REFUSED'],
      [399, 'BACKEND.REDIRECT_REFUSED'],
      [400, 'BACKEND.HTTP_STATUS'],
      [299, 'BACKEND.HTTP_STATUS'],
      [201, 'BACKEND.HTTP_STATUS'],
      [204, 'BACKEND.HTTP_STATUS'],
    ])('HTTP %i is %s', async (status, code) => {
      const backend = await backendAnswering(status === 204 ? respondRaw(204, '') : respondJson(status, { jwt: JWT }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe(code);
      expect(error.status).toBe(status);
      expect(error.transient).toBe(true);
      expect(error.message).toBe(
        code === 'BACKEND.REDIRECT_REFUSED'
          ? `license backend answered HTTP ${status} (redirects are never followed)`
          : `license backend answered HTTP ${status}`,
      );
    });

    it('a 400 with the backend\'s JSON error is BACKEND.HTTP_STATUS quoting it, not a rejection of the key', async () => {
      const backend = await backendAnswering(respondJson(400, { error: 'bad_request', message: 'instance_id is not a UUID' }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.HTTP_STATUS');
      expect(error.message).toBe('license backend answered HTTP 400: instance_id is not a UUID');
      expect(error.transient).toBe(true);
    });

    it('a 401 whose JSON error says nothing readable is still BACKEND.REJECTED, in words of our own', async () => {
      const backend = await backendAnswering(respondJson(401, { error: '' }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.REJECTED');
      expect(error.message).toBe('the API key was rejected');
      expect(error.status).toBe(401);
      expect(error.transient).toBe(false);
    });

    it.each([
      [401, 'an HTML page', respondRaw(401, '<html>Unauthorized</html>', { headers: { 'Content-Type': 'text/html' } })],
      [407, 'an empty body', respondRaw(407, '', { headers: { 'Content-Type': 'text/plain' } })],
      [407, 'the JSON error of a proxy', respondJson(407, { error: 'proxy_auth_required', message: 'log in to the proxy' })],
    ])('a %i with %s is BACKEND.UNEXPECTED_STATUS, naming the status and a proxy', async (status, _case, handler) => {
      const backend = await backendAnswering(handler);
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.UNEXPECTED_STATUS');
      expect(error.message).toBe(`HTTP ${status} without the license backend's JSON error (a proxy in the way?)`);
      expect(error.status).toBe(status);
      expect(error.transient).toBe(true);
      expect(error.retryAfterMs).toBeNull();
    });

    it('reads Retry-After only on the statuses it classifies as HTTP_STATUS, not on a 401 or a redirect', async () => {
      const rejected = await backendAnswering(respondJson(401, { error: 'api_key_revoked' }, { 'Retry-After': '120' }));
      expect((await failureOf(clientFor(rejected.url))).retryAfterMs).toBeNull();
      const busy = await backendAnswering(respondJson(400, { error: 'bad_request' }, { 'Retry-After': '120' }));
      expect((await failureOf(clientFor(busy.url))).retryAfterMs).toBe(120 * SECOND);
    });
  });

  describe('redirects', () => {
    it.each([301, 302, 307, 308])('are not followed: after a %i the other server receives nothing (BACKEND.REDIRECT_REFUSED)', async (status) => {
      const elsewhere = await backendAnswering(issueToken(JWT));
      const backend = await backendAnswering(respondJson(status, {}, { Location: `${elsewhere.url}${TOKEN_PATH}` }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.REDIRECT_REFUSED');
      expect(error.message).toMatch(new RegExp(`HTTP ${status}`));
      expect(error.status).toBe(status);
      expect(onlyRequest(backend).url).toBe(TOKEN_PATH);
      expect(elsewhere.requests).toHaveLength(0);
    });
  });

  describe('timeouts', () => {
    it('connect: an https server that accepts TCP but never speaks TLS is BACKEND.TIMEOUT about connecting', async () => {
      const silent = await started(SilentTcpServer.start());
      const error = await failureOf(clientFor(`https://127.0.0.1:${silent.port}`, { connectTimeoutMs: SHORT_MS }));

      expect(silent.connections).toBe(1);
      expect(error.code).toBe('BACKEND.TIMEOUT');
      expect(error.message).toBe(`could not connect to the license backend at 127.0.0.1:${silent.port} within ${SHORT_MS} ms`);
      expect(error.cause).toBeInstanceOf(Error);
      expect(error.transient).toBe(true);
    });

    it.each<[string, BackendHandler]>([
      ['never answers', () => undefined],
      [
        'sends the headers, then stalls the body',
        (_request, response) => {
          response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '128' });
          response.write('{"jwt": "eyJ');
        },
      ],
    ])('read: a server that %s is BACKEND.TIMEOUT about answering', async (_case, handler) => {
      const backend = await backendAnswering(handler);
      const error = await failureOf(clientFor(backend.url, { readTimeoutMs: SHORT_MS }));

      expect(onlyRequest(backend).url).toBe(TOKEN_PATH);
      expect(error.code).toBe('BACKEND.TIMEOUT');
      expect(error.message).toBe(`license backend at ${new URL(backend.url).host} did not answer within ${SHORT_MS} ms`);
      expect(error.cause).toBeInstanceOf(Error);
      expect(error.transient).toBe(true);
    });

    it('the connect timeout stops counting once connected: a slow but timely answer is accepted', async () => {
      const backend = await backendAnswering(async (request, response) => {
        await delay(2 * SHORT_MS);
        await issueToken(JWT)(request, response);
      });

      await expect(clientFor(backend.url, { connectTimeoutMs: SHORT_MS }).requestToken(REQUEST)).resolves.toMatchObject({ jwt: JWT });
    });
  });

  describe('answers over 64 KiB', () => {
    const HUGE = 64 * 1024 * 1024;

    it('caps answers at 64 KiB (the exported constant says so too)', () => {
      expect(MAX_RESPONSE_BYTES).toBe(LIMIT);
    });

    it.each<Framing>(['content-length', 'chunked'])('are refused (%s) as BACKEND.RESPONSE_TOO_LARGE, and the connection dropped', async (framing) => {
      const { handler, outcome } = firehose(HUGE, framing);
      const backend = await backendAnswering(handler);
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.RESPONSE_TOO_LARGE');
      expect(error.message).toBe('license backend answer exceeds 65536 bytes');
      expect(error.transient).toBe(true);
      const { written, finished } = await outcome();
      expect(finished).toBe(false);
      expect(written).toBeLessThan(HUGE);
    });

    it('are refused from a declared Content-Length alone, before any of the body arrives', async () => {
      const backend = await backendAnswering((_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(LIMIT + 1) });
        response.flushHeaders();
      });
      const error = await failureOf(clientFor(backend.url, { readTimeoutMs: LONG_MS }));

      expect(error.code).toBe('BACKEND.RESPONSE_TOO_LARGE');
      expect(error.message).toBe('license backend answer exceeds 65536 bytes');
      expect(error.status).toBe(200);
    });

    it.each<Framing>(['content-length', 'chunked'])('are refused (%s) from the first byte over the limit', async (framing) => {
      const backend = await backendAnswering(respondRaw(200, tokenAnswerOfSize(LIMIT + 1), { framing }));
      const error = await failureOf(clientFor(backend.url));

      expect(error.code).toBe('BACKEND.RESPONSE_TOO_LARGE');
    });

    it.each<Framing>(['content-length', 'chunked'])('of exactly 64 KiB are still read (%s)', async (framing) => {
      const backend = await backendAnswering(respondRaw(200, tokenAnswerOfSize(LIMIT), { framing }));

      await expect(clientFor(backend.url).requestToken(REQUEST)).resolves.toMatchObject({ jwt: JWT });
    });
  });

  describe('network failures', () => {
    it('a refused connection is BACKEND.UNREACHABLE naming the host and the cause', async () => {
      const port = await closedLoopbackPort();
      const error = await failureOf(clientFor(`http://127.0.0.1:${port}`));

      expect(error.code).toBe('BACKEND.UNREACHABLE');
      expect(error.message).toBe(`license backend at 127.0.0.1:${port} is unreachable (connection refused)`);
      expect(error.cause).toBeInstanceOf(Error);
      expect(error.transient).toBe(true);
    });

    it.each<[string, BackendHandler]>([
      [
        'closes the connection',
        (_request, response) => {
          response.socket?.destroy();
        },
      ],
      [
        'resets the connection (TCP RST)',
        (_request, response) => {
          response.socket?.resetAndDestroy();
        },
      ],
    ])('a server that %s instead of answering is BACKEND.UNREACHABLE (connection reset)', async (_case, handler) => {
      const backend = await backendAnswering(handler);
      const error = await failureOf(clientFor(backend.url));

      expect(onlyRequest(backend).url).toBe(TOKEN_PATH);
      expect(error.code).toBe('BACKEND.UNREACHABLE');
      expect(error.message).toBe(`license backend at ${new URL(backend.url).host} is unreachable (connection reset)`);
      expect(error.transient).toBe(true);
    });
  });
});

describe('HttpTokenBackend sending the usage counters (DESIGN §12), behind UsageReportingTokenBackend', () => {
  const uptime = { elapsedMs: () => 0 };
  const reportingClient = (backend: FakeLicenseBackend, counters: UsageCounters) =>
    new UsageReportingTokenBackend(clientFor(backend.url), counters, { platform: 'linux', clock: uptime });

  it('sends instance_id, version and usage with exactly its five fields, and nothing else', async () => {
    const backend = await backendAnswering(issueToken(JWT));
    const counters = new UsageCounters();
    counters.quotaDenied('max_result_rows');
    counters.featureDenied('federation');
    counters.observeUsage('max_concurrent_queries', 2);

    await reportingClient(backend, counters).requestToken(REQUEST);

    expect(backend.tokenRequestBodies()).toStrictEqual([
      {
        instance_id: REQUEST.instanceId,
        version: REQUEST.agentVersion,
        usage: {
          quota_denials: { max_result_rows: 1 },
          feature_denials: { federation: 1 },
          peak_usage: { max_concurrent_queries: 2 },
          uptime_seconds: 0,
          platform: 'linux',
        },
      },
    ]);
    expect(onlyRequest(backend).body).not.toContain(API_KEY);
  });

  it('resends the counts after a 503 and a lost connection, and resets them only after the 200', async () => {
    let answers = 0;
    const backend = await backendAnswering((request, response) => {
      answers += 1;
      if (answers === 1) return respondJson(503, { error: 'unavailable' })(request, response);
      if (answers === 2) return void response.socket?.destroy();
      return issueToken(JWT)(request, response);
    });
    const counters = new UsageCounters();
    const client = reportingClient(backend, counters);
    counters.quotaDenied('max_result_rows');

    await expect(client.requestToken(REQUEST)).rejects.toMatchObject({ code: 'BACKEND.HTTP_STATUS', status: 503 });
    counters.quotaDenied('max_result_rows');
    await expect(client.requestToken(REQUEST)).rejects.toMatchObject({ code: 'BACKEND.UNREACHABLE' });
    await client.requestToken(REQUEST);
    await client.requestToken(REQUEST);

    const denials = backend.tokenRequestBodies().map((body) => (body as { usage: { quota_denials: unknown } }).usage.quota_denials);
    expect(denials).toEqual([{ max_result_rows: 1 }, { max_result_rows: 2 }, { max_result_rows: 2 }, {}]);
  });
});
