import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { respondJson } from '../support/fake-license-backend.js';

const MAIN = fileURLToPath(new URL('../../dist/app/main.js', import.meta.url));
/** Each failed refresh logs a few lines; this many write far more than a pipe (64 KiB) holds. */
const REFRESHES = 300;
const BOUNDED_MS = 5_000;

/** Polls `isReady` (its stdout unread, the server cannot say when it listens); fails after `timeoutMs`. */
async function readyWithin(timeoutMs: number, isReady: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isReady())) {
    if (Date.now() > deadline) throw new Error(`the server was not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * DESIGN §7 (amended): logging never blocks the event loop. The built server's stdout is a pipe
 * that this test never reads, as with a stalled log collector.
 */
describe('the built server with a stdout nobody reads', () => {
  let env: AgentEnvironment;
  let child: ChildProcess | undefined;
  beforeEach(async () => {
    env = await AgentEnvironment.create();
  });
  afterEach(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    child = undefined;
    await env.dispose();
  });

  const call = (url: string, init: RequestInit = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(BOUNDED_MS) });

  it('keeps answering /healthz and enforced routes while it logs, and still stops on SIGTERM', async () => {
    env.backend.handle(respondJson(503, { error: 'maintenance' })); // every refresh fails, and says so in the log
    const port = await freePort();
    const environment = env.env({
      SOFTCLIENT4ES_API_KEY: 'sk-stalled-stdout-key',
      SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s',
      SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: 'false',
      LOG_LEVEL: 'debug',
    });
    child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', HOME: env.dir, HOST: '127.0.0.1', PORT: String(port), ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const base = `http://127.0.0.1:${port}`;
    await readyWithin(10_000, () => call(`${base}/readyz`).then((response) => response.ok, () => false));

    for (let index = 0; index < REFRESHES; index += 1) {
      const refreshed = await call(`${base}/admin/license/refresh`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(refreshed.status).toBe(502);
    }

    expect((await call(`${base}/healthz`)).status).toBe(200);
    expect((await call(`${base}/demo/query?rows=10`)).status).toBe(200);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(['still running']), BOUNDED_MS))])) as [unknown];
    expect(code).toBe(0);
  });
});
