import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { ConnectionDeadline, type DeadlinePhase } from '../../../src/adapters/http/connection-deadline.js';
import type { ProxyRoute } from '../../../src/adapters/http/proxy-route.js';
import { LoopbackProxy } from '../../support/loopback-proxy.js';
import { SilentTcpServer } from '../../support/silent-tcp-server.js';
import { stoppedAfterEach } from '../../support/stopped-after-each.js';

/**
 * The two phases of the deadline over https, against real TLS on loopback. The test certificate is
 * trusted per request (`ca`), the way a request's TLS options reach the agent's connection: the
 * agent code under test is the one the backend client uses.
 */
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/tls/${name}`, import.meta.url));
const CA = fixture('localhost.crt');

/** The phase expected to fire; the other one gets LONG_MS, so a mix-up shows as the wrong phase. */
const SHORT_MS = 200;
const LONG_MS = 5_000;

const started = stoppedAfterEach();

/** A TLS server with the test certificate that completes every handshake and never answers a request. */
async function tlsServerThatNeverAnswers(): Promise<{ port: number; handshakes: () => number; stop(): Promise<void> }> {
  let handshakes = 0;
  const sockets = new Set<Socket>();
  const server = createHttpsServer({ key: fixture('localhost.key'), cert: CA }, () => undefined);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', () => {
    handshakes += 1;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return started(
    Promise.resolve({
      port: (server.address() as AddressInfo).port,
      handshakes: () => handshakes,
      stop: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    }),
  );
}

/** Sends one https request on the deadline's agent and signal; resolves with the phase that expired once it failed. */
async function expiredPhaseOf(deadline: ConnectionDeadline, url: string): Promise<DeadlinePhase | null> {
  try {
    await new Promise<void>((resolve, reject) => {
      const request = httpsRequest(url, { agent: deadline.agent, signal: deadline.signal, ca: CA }, (response) => {
        response.resume();
        response.once('end', resolve);
      });
      request.once('error', reject);
      request.end();
    });
    throw new Error('expected the request to be cut by the deadline');
  } catch (error) {
    expect(deadline.signal.aborted).toBe(true);
    return deadline.expired;
  } finally {
    deadline.dispose();
  }
}

function routeThrough(proxy: LoopbackProxy): ProxyRoute {
  return { url: new URL(proxy.url()), host: proxy.host, authorization: null };
}

/** A TLS server with the test certificate that answers 204 and records each request's `Connection` header. */
async function tlsServerRecordingConnectionHeaders(): Promise<{ port: number; connectionHeaders: (string | undefined)[]; stop(): Promise<void> }> {
  const connectionHeaders: (string | undefined)[] = [];
  const server = createHttpsServer({ key: fixture('localhost.key'), cert: CA }, (request, response) => {
    connectionHeaders.push(request.headers.connection);
    response.writeHead(204).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return started(
    Promise.resolve({
      port: (server.address() as AddressInfo).port,
      connectionHeaders,
      stop: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    }),
  );
}

/** Sends one https request on the deadline's agent; resolves with the status once the response was read. */
async function statusOf(deadline: ConnectionDeadline, url: string): Promise<number | undefined> {
  try {
    return await new Promise<number | undefined>((resolve, reject) => {
      const request = httpsRequest(url, { agent: deadline.agent, signal: deadline.signal, ca: CA }, (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode));
      });
      request.once('error', reject);
      request.end();
    });
  } finally {
    deadline.dispose();
  }
}

describe('ConnectionDeadline: one connection per request', () => {
  it('asks the backend to close the connection after the answer, directly and through a tunnel (no idle connection is kept)', async () => {
    const server = await tlsServerRecordingConnectionHeaders();
    const proxy = await started(LoopbackProxy.start());
    const url = `https://127.0.0.1:${server.port}/`;

    await expect(statusOf(new ConnectionDeadline(new URL(url), null, LONG_MS, LONG_MS), url)).resolves.toBe(204);
    await expect(statusOf(new ConnectionDeadline(new URL(url), routeThrough(proxy), LONG_MS, LONG_MS), url)).resolves.toBe(204);

    expect(server.connectionHeaders).toEqual(['close', 'close']);
  });
});

describe('ConnectionDeadline over https', () => {
  describe('direct', () => {
    it('the connect phase lasts until the TLS handshake is done: a server that never speaks TLS is cut by the connect timeout', async () => {
      const silent = await started(SilentTcpServer.start());
      const deadline = new ConnectionDeadline(new URL(`https://127.0.0.1:${silent.port}/`), null, SHORT_MS, LONG_MS);

      await expect(expiredPhaseOf(deadline, `https://127.0.0.1:${silent.port}/`)).resolves.toBe('connect');
      expect(silent.connections).toBe(1);
    });

    it('once the TLS handshake is done the read phase runs: a backend that never answers is cut by the read timeout', async () => {
      const server = await tlsServerThatNeverAnswers();
      const deadline = new ConnectionDeadline(new URL(`https://127.0.0.1:${server.port}/`), null, LONG_MS, SHORT_MS);

      await expect(expiredPhaseOf(deadline, `https://127.0.0.1:${server.port}/`)).resolves.toBe('read');
      expect(server.handshakes()).toBe(1);
    });
  });

  describe('through a CONNECT proxy', () => {
    it('an open tunnel is not enough: a backend behind it that never speaks TLS is cut by the connect timeout', async () => {
      const silent = await started(SilentTcpServer.start());
      const proxy = await started(LoopbackProxy.start());
      const deadline = new ConnectionDeadline(new URL(`https://127.0.0.1:${silent.port}/`), routeThrough(proxy), SHORT_MS, LONG_MS);

      await expect(expiredPhaseOf(deadline, `https://127.0.0.1:${silent.port}/`)).resolves.toBe('connect');
      expect(deadline.proxyStatus).toBe(200);
      expect(silent.connections).toBe(1);
    });

    it('once the TLS handshake through the tunnel is done the read phase runs', async () => {
      const server = await tlsServerThatNeverAnswers();
      const proxy = await started(LoopbackProxy.start());
      const deadline = new ConnectionDeadline(new URL(`https://127.0.0.1:${server.port}/`), routeThrough(proxy), LONG_MS, SHORT_MS);

      await expect(expiredPhaseOf(deadline, `https://127.0.0.1:${server.port}/`)).resolves.toBe('read');
      expect(deadline.proxyStatus).toBe(200);
      expect(server.handshakes()).toBe(1);
    });
  });
});
