import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Socket } from 'node:net';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { rawConnection, rawRequest, sendEndlessBody } from '../support/raw-http-client.js';
import { ServerProcess } from '../support/server-process.js';

/** 1 TiB: a body no test could send, so that only a server that stops reading lets the exchange end. */
const ENDLESS = 2 ** 40;
/** What the kernel's socket buffers and a last read before the close may hold, with a wide margin. */
const AT_MOST_BUFFERED = 256 * 1024 * 1024;
const AUTH = `Authorization: Bearer ${ADMIN_TOKEN}\r\n`;

const head = (requestLine: string, headers: string) => `${requestLine} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`;
const bodyOf = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as { error: string };

describe('the built server, refusing a request before reading its body', () => {
  let env: AgentEnvironment;
  let server: ServerProcess;
  let url: string;
  beforeAll(async () => {
    env = await AgentEnvironment.create();
    ({ server, url } = await ServerProcess.start(env.env()));
  });
  afterAll(async () => {
    await server.kill();
    await env.dispose();
  });

  it.each([
    ['401: an admin POST without the token', 'POST /admin/license/refresh', '', 401, 'unauthorized'],
    ['401: a wrong method under /admin without the token', 'PUT /admin/license', '', 401, 'unauthorized'],
    ['413: an admin POST declaring more than 1 KiB', 'POST /admin/license/refresh', AUTH, 413, 'payload_too_large'],
    ['405: a method the admin path does not serve', 'POST /admin/license', AUTH, 405, 'method_not_allowed'],
    ['404: an unknown admin path', 'POST /admin/upload', AUTH, 404, 'not_found'],
    ['404: an unknown path outside /admin', 'POST /upload', '', 404, 'not_found'],
  ])('%s: answers, then closes the connection instead of reading the declared body', async (_case, requestLine, auth, status, error) => {
    const exchange = await sendEndlessBody(url, head(requestLine, `${auth}Content-Length: ${ENDLESS}\r\n`));

    expect(exchange.response).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(exchange.response).toMatch(/\r\nConnection: close\r\n/i);
    expect(bodyOf(exchange.response)).toMatchObject({ error });
    expect(exchange.closedByServer).toBe(true);
    expect(exchange.bodyBytesSent).toBeLessThan(AT_MOST_BUFFERED);
  });

  it('413: an admin POST whose chunked body grows past 1 KiB, then closes the connection', async () => {
    const exchange = await sendEndlessBody(url, head('POST /admin/license/refresh', `${AUTH}Transfer-Encoding: chunked\r\n`), { chunked: true });

    expect(exchange.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(bodyOf(exchange.response)).toMatchObject({ error: 'payload_too_large' });
    expect(exchange.closedByServer).toBe(true);
    expect(exchange.bodyBytesSent).toBeLessThan(AT_MOST_BUFFERED);
  });

  it('reads an admin POST body of up to 1 KiB and keeps the connection; one byte more is 413 and closes it', async () => {
    const socket = await rawConnection(url);
    const refresh = (bytes: number) => `${head('POST /admin/license/refresh', `${AUTH}Content-Length: ${bytes}\r\n`)}${'x'.repeat(bytes)}`;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    try {
      const accepted = await rawRequest(socket, refresh(1024), (text) => text.endsWith('}'));
      expect(accepted).toMatch(/^HTTP\/1\.1 409 /); // no API key: nothing to refresh
      expect(accepted).not.toMatch(/\r\nConnection: close\r\n/i);

      const refused = await rawRequest(socket, refresh(1025), (text) => text.endsWith('}'));
      expect(refused).toMatch(/^HTTP\/1\.1 413 /);
      expect(refused).toMatch(/\r\nConnection: close\r\n/i);
      await closed;
    } finally {
      socket.destroy();
    }
  });
});

describe('the built server, MAX_CONNECTIONS', () => {
  let env: AgentEnvironment;
  let server: ServerProcess | undefined;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    env = await AgentEnvironment.create();
  });
  afterEach(async () => {
    sockets.splice(0).forEach((socket) => socket.destroy());
    await server?.kill();
    server = undefined;
  });
  afterAll(async () => env.dispose());

  it.each(['0', '-1', 'many', '1.5', '2000000'])('refuses %j with one line naming the variable (exit 2)', async (value) => {
    server = ServerProcess.spawn(env.env({ MAX_CONNECTIONS: value }));

    expect(await server.exitCode()).toBe(2);
    expect(server.stderr.trim().split('\n')).toEqual([
      `Invalid MAX_CONNECTIONS: expected a whole number from 1 to 1000000 (got ${JSON.stringify(value)})`,
    ]);
  });

  it('closes connections beyond the cap at once, with a WARN, and accepts again below it', async () => {
    const started = await ServerProcess.start(env.env({ MAX_CONNECTIONS: '2' }));
    server = started.server;
    const healthz = head('GET /healthz', '');
    for (let index = 0; index < 2; index += 1) {
      const socket = await rawConnection(started.url);
      sockets.push(socket);
      await rawRequest(socket, healthz, (text) => text.endsWith('}')); // accepted and counted
    }

    const refused = await sendEndlessBody(started.url, healthz, { timeoutMs: 5_000 });
    expect(refused).toMatchObject({ response: '', closedByServer: true });
    const warning = await server.waitForLog((line) => line.msg.startsWith('Refused 1 connection(s)'));
    expect(warning).toMatchObject({ level: 40, max_connections: 2 });

    sockets.shift()?.destroy();
    // The server counts the closed connection out when it sees the close: retry until then (bounded).
    let accepted = '';
    for (let attempt = 0; attempt < 100 && accepted === ''; attempt += 1) {
      accepted = (await sendEndlessBody(started.url, `${healthz.slice(0, -2)}Connection: close\r\n\r\n`, { timeoutMs: 5_000 })).response;
      if (accepted === '') await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(accepted).toMatch(/^HTTP\/1\.1 200 /);
  });
});
