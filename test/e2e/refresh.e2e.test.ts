import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { issueToken } from '../support/fake-license-backend.js';
import { ServerProcess } from '../support/server-process.js';
import { aLicenseToken } from '../support/signing-keys.js';
import { waitUntil } from '../support/waiting.js';

const API_KEY = 'sk-e2e-refresh-secret-key';
/** Above the Pro `max_result_rows` (1 000 000); Enterprise has no limit. */
const ENTERPRISE_SIZED_QUERY = '/demo/query?rows=5000000';
/** What the cache directory holds (the admin token is configured); anything else, such as a `.tmp` file, is a write that did not finish. */
const CACHE_FILES = ['clock.json', 'instance.json', 'license-cache.json'];

describe('the built server refreshing its license', () => {
  let env: AgentEnvironment;
  let server: ServerProcess | undefined;
  beforeEach(async () => {
    env = await AgentEnvironment.create();
  });
  afterEach(async () => {
    await server?.kill();
    server = undefined;
    await env.dispose();
  });

  const cachedJwt = () => (JSON.parse(readFileSync(join(env.cacheDir, 'license-cache.json'), 'utf8')) as { jwt: string }).jwt;

  it('picks up an upgrade from Pro to Enterprise on its periodic refresh, without a restart', async () => {
    const pro = await aLicenseToken(env.key, { tier: 'pro' });
    const enterprise = await aLicenseToken(env.key, { tier: 'enterprise' });
    env.backend.handle(issueToken(pro));
    const started = await ServerProcess.start(env.env({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: '2s' }));
    server = started.server;
    await server.waitForLog((line) => line.msg === 'License upgraded from Community to Pro');

    const denied = await fetch(`${started.url}${ENTERPRISE_SIZED_QUERY}`);
    expect(denied.status).toBe(402);
    expect(await denied.json()).toMatchObject({ error: 'quota_exceeded', tier: 'Pro', quota: 'max_result_rows' });

    env.backend.handle(issueToken(enterprise));
    const upgraded = await server.waitForLog((line) => line.msg === 'License upgraded from Pro to Enterprise', 15_000);
    expect(upgraded.level).toBe(30);

    const allowed = await fetch(`${started.url}${ENTERPRISE_SIZED_QUERY}`);
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ ok: true, tier: 'Enterprise' });
    expect(server.lines.filter((line) => line.msg.startsWith('Listening on '))).toHaveLength(1);
    await waitUntil(() => cachedJwt() === enterprise, 'the Enterprise license is cached (written behind the install)');

    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.stdout).not.toContain(API_KEY);
    expect(server.stdout).not.toContain(enterprise);
  });

  it('exits 0 on SIGTERM while a refresh hangs on the backend, leaving no half-written file in the cache', async () => {
    const pro = await aLicenseToken(env.key, { tier: 'pro' });
    env.backend.handle(issueToken(pro));
    const started = await ServerProcess.start(
      env.env({
        SOFTCLIENT4ES_API_KEY: API_KEY,
        SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: '1s',
        SOFTCLIENT4ES_LICENSE_READ_TIMEOUT: '60s', // the refresh cannot end on its own during the test
      }),
    );
    server = started.server;
    await server.waitForLog((line) => line.msg === 'License upgraded from Community to Pro');
    env.backend.handle(() => undefined); // never answers
    const requestsBefore = env.backend.requests.length;
    await waitUntil(() => env.backend.requests.length > requestsBefore, 'a periodic refresh has reached the backend');

    expect(await server.stop('SIGTERM', 8_000)).toBe(0);
    await server.waitForLog((line) => line.msg === 'Stopped', 1_000);
    expect(readdirSync(env.cacheDir).sort()).toEqual(CACHE_FILES);
    expect(cachedJwt()).toBe(pro);
  });

  it('exits 0 on SIGTERM while an admin caller waits on a hanging forced refresh, answering it 502 shutting_down', async () => {
    const pro = await aLicenseToken(env.key, { tier: 'pro' });
    env.backend.handle(issueToken(pro));
    const started = await ServerProcess.start(
      env.env({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_LICENSE_READ_TIMEOUT: '60s', SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: 'false' }),
    );
    server = started.server;
    await server.waitForLog((line) => line.msg === 'License upgraded from Community to Pro');
    env.backend.handle(() => undefined); // never answers
    const waiting = fetch(`${started.url}/admin/license/refresh`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }).then(
      async (response) => ({ status: response.status, body: (await response.json()) as unknown }),
      () => 'connection closed',
    );
    await waitUntil(() => env.backend.requests.length === 2, 'the forced refresh has reached the backend');

    expect(await server.stop('SIGTERM', 8_000)).toBe(0);
    expect(await waiting).toEqual({ status: 502, body: { error: 'shutting_down', message: expect.any(String) } });
    expect(readdirSync(env.cacheDir).sort()).toEqual(CACHE_FILES);
    expect(cachedJwt()).toBe(pro);
  });

  it('lets a refresh that is answered during shutdown finish and replace the cache whole before exiting', async () => {
    const pro = await aLicenseToken(env.key, { tier: 'pro' });
    const enterprise = await aLicenseToken(env.key, { tier: 'enterprise', claims: { padding: 'x'.repeat(8_000) } });
    env.backend.handle(issueToken(pro));
    const started = await ServerProcess.start(
      env.env({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: '1s', SOFTCLIENT4ES_LICENSE_READ_TIMEOUT: '60s' }),
    );
    server = started.server;
    await server.waitForLog((line) => line.msg === 'License upgraded from Community to Pro');
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const requestsBefore = env.backend.requests.length;
    env.backend.handle(async (recorded, response) => {
      await answered;
      await issueToken(enterprise)(recorded, response);
    });
    await waitUntil(() => env.backend.requests.length > requestsBefore, 'a periodic refresh has reached the backend');

    const exited = server.stop('SIGTERM', 8_000);
    await server.waitForLog((line) => line.msg === 'Received SIGTERM, shutting down');
    answer();

    expect(await exited).toBe(0);
    expect(server.lines.map((line) => line.msg)).toContain('License upgraded from Pro to Enterprise');
    expect(readdirSync(env.cacheDir).sort()).toEqual(CACHE_FILES);
    expect(cachedJwt()).toBe(enterprise);
  });

  it('answers /readyz 503 during SOFTCLIENT4ES_SHUTDOWN_DRAIN before the listener closes, then exits 0', async () => {
    const started = await ServerProcess.start(env.env({ SOFTCLIENT4ES_SHUTDOWN_DRAIN: '1500ms' }));
    server = started.server;
    await server.waitForLog((line) => line.msg === 'Running in Community mode'); // the initial resolution is over
    expect((await fetch(`${started.url}/readyz`)).status).toBe(200);

    const exited = server.stop('SIGTERM', 8_000);
    await server.waitForLog((line) => String(line.msg).startsWith('Received SIGTERM'), 2_000);
    const during = await fetch(`${started.url}/readyz`);
    const healthy = await fetch(`${started.url}/healthz`);

    expect(during.status).toBe(503);
    expect(await during.json()).toEqual({ status: 'shutting_down', message: 'the server is shutting down' });
    expect(healthy.status).toBe(200); // still alive, only not ready: in-flight and new requests are served
    expect(await exited).toBe(0);
  });
});
