import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createBoundedServer, DEFAULT_SERVER_LIMITS, type ServerLimits } from '../../../src/adapters/http-server/bounded-server.js';
import { loadHostConfig } from '../../../src/app/host-config.js';
import { createLicenseAgent } from '../../../src/app/create-license-agent.js';
import { createHostServer } from '../../../src/app/host-server.js';
import { AgentEnvironment } from '../../support/agent-environment.js';
import { rawConnection, rawRequest } from '../../support/raw-http-client.js';
import { RecordingLogger } from '../../support/recording-logger.js';

/** Small limits, so that the tests see them fire; every wait below is bounded. */
const FAST: Partial<ServerLimits> = { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 300, timeoutCheckIntervalMs: 50 };

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  sockets.splice(0).forEach((socket) => socket.destroy());
  if (server?.listening) {
    server.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
  server = undefined;
});

async function listening(handler: RequestListener, limits: Partial<ServerLimits>): Promise<string> {
  server = createBoundedServer(handler, new RecordingLogger(), limits);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function connect(url: string): Promise<Socket> {
  const socket = await rawConnection(url);
  sockets.push(socket);
  return socket;
}

/** Everything the server sends until it closes the connection (bounded by the test's timeout). */
async function untilClosed(socket: Socket): Promise<string> {
  let received = '';
  socket.setEncoding('utf8').on('data', (text: string) => (received += text));
  await once(socket, 'close');
  return received;
}

const ok: RequestListener = (_req, res) => {
  res.end('ok');
};

describe('createHostServer', () => {
  it('builds the example host with the documented limits and the configured connection cap', async () => {
    const env = await AgentEnvironment.create();
    const { agent: config, host: hostConfig } = loadHostConfig(env.env({ MAX_CONNECTIONS: '7' }), env.dir);
    const agent = await createLicenseAgent(config, { logger: new RecordingLogger() });
    try {
      const host = createHostServer(agent, new RecordingLogger(), { maxConnections: hostConfig.maxConnections });

      expect(host).toMatchObject({ headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, maxHeadersCount: 100, maxConnections: 7 });
      expect(loadHostConfig({}).host.maxConnections).toBe(DEFAULT_SERVER_LIMITS.maxConnections);
    } finally {
      await agent.stop();
      await env.dispose();
    }
  });
});

describe('createBoundedServer', () => {
  it('answers 408 and closes a connection whose headers do not all arrive within headersTimeoutMs (slowloris)', async () => {
    const socket = await connect(await listening(ok, FAST));
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');

    expect(await untilClosed(socket)).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers 408 and closes a connection whose body does not all arrive within requestTimeoutMs', async () => {
    const reading: RequestListener = (req, res) => {
      req.resume().once('end', () => res.end('ok'));
    };
    const socket = await connect(await listening(reading, FAST));
    socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nonly a part');

    expect(await untilClosed(socket)).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    const socket = await connect(await listening(ok, FAST));
    const answer = await rawRequest(socket, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', (text) => text.endsWith('ok'));
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);

    await untilClosed(socket);
  });

  it('gives the handler at most maxHeadersCount headers', async () => {
    let seen = 0;
    const counting: RequestListener = (req, res) => {
      seen = Object.keys(req.headers).length;
      res.end('ok');
    };
    const socket = await connect(await listening(counting, { maxHeadersCount: 10 }));
    const headers = Array.from({ length: 50 }, (_, index) => `X-Header-${index}: ${index}\r\n`).join('');

    await rawRequest(socket, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`, (text) => text.endsWith('ok'));

    expect(seen).toBe(10);
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() => createBoundedServer(ok, new RecordingLogger(), { headersTimeoutMs: 2_000, requestTimeoutMs: 1_000 })).toThrow(/headersTimeout.* must be <= requestTimeout/);
  });
});
