import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LoadPool } from '../../../bench/sliced-load.js';

/** The bench's load generator: its counts decide the throughput verdict, so they must be exact. */
describe('LoadPool', () => {
  let server: Server | undefined;
  let pool: LoadPool | undefined;
  afterEach(async () => {
    pool?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = pool = undefined;
  });

  const serve = async (listener: RequestListener) => {
    server = createServer(listener);
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server?.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  it('counts every answer by status over keep-alive connections, and drains the requests in flight', async () => {
    let answered = 0;
    const sockets = new Set<unknown>();
    const url = await serve((req, res) => {
      sockets.add(req.socket);
      answered += 1;
      const status = answered % 3 === 0 ? 402 : 200;
      const body = JSON.stringify({ ok: status === 200, path: req.url, padding: 'x'.repeat(answered % 50) });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    pool = await LoadPool.open(`${url}/demo/query?rows=5`, 4);

    const first = await pool.run(100);
    const second = await pool.run(50);

    expect(first.ok).toBeGreaterThan(0);
    expect(first.non2xx).toBeGreaterThan(0);
    expect(first.ok + first.non2xx + second.ok + second.non2xx).toBe(answered);
    expect(first.errors + second.errors).toBe(0);
    expect(first.latencies.count).toBe(first.ok);
    expect(first.elapsedMs).toBeGreaterThanOrEqual(90); // timers may round down by a millisecond or so
    expect(sockets.size).toBe(4);
  });

  it('counts a connection lost mid-request as an error and reopens it for the next run', async () => {
    let requests = 0;
    const url = await serve((req, res) => {
      requests += 1;
      if (requests === 3) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-length': 2 });
      res.end('ok');
    });
    pool = await LoadPool.open(url, 1);

    const broken = await pool.run(200);
    expect(broken).toMatchObject({ ok: 2, non2xx: 0, errors: 1 });

    const next = await pool.run(50);
    expect(next.ok).toBeGreaterThan(0);
    expect(next.errors).toBe(0);
  });

  it('refuses answers it cannot frame rather than miscount them', async () => {
    const url = await serve((_req, res) => {
      res.write('chunked');
      res.end();
    });
    pool = await LoadPool.open(url, 1);
    expect(await pool.run(50)).toMatchObject({ ok: 0, non2xx: 0, errors: 1 });
  });

  it('refuses anything but plain HTTP', async () => {
    await expect(LoadPool.open('https://127.0.0.1:1/', 1)).rejects.toThrow('plain HTTP only');
  });
});
