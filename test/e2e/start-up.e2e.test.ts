import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { FakeLicenseBackend, issueToken } from '../support/fake-license-backend.js';
import { ServerProcess } from '../support/server-process.js';
import { aLicenseToken } from '../support/signing-keys.js';

const API_KEY = 'sk-e2e-secret-key-value';

describe('the built server (npm start)', () => {
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

  const getLicense = async (url: string) => {
    const response = await fetch(`${url}/admin/license`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  };

  it('exchanges the API key for a Pro license, reports it, and stops cleanly on SIGTERM', async () => {
    const jwt = await aLicenseToken(env.key, { tier: 'pro', orgName: 'E2E Org' });
    env.backend.handle(issueToken(jwt));
    const started = await ServerProcess.start(env.env({ SOFTCLIENT4ES_API_KEY: API_KEY }));
    server = started.server;

    await server.waitForLog((line) => line.msg === 'License upgraded from Community to Pro');
    expect(await getLicense(started.url)).toMatchObject({ tier: 'Pro', source: 'api_key', org_name: 'E2E Org', degraded: false });
    expect((await fetch(`${started.url}/readyz`)).status).toBe(200);

    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.stdout).not.toContain(API_KEY);
    expect(server.stdout).not.toContain(jwt);
    expect(server.stdout).not.toContain(ADMIN_TOKEN);
  });

  it('starts in Community mode when the backend is unreachable, logging why', async () => {
    const closed = await FakeLicenseBackend.start();
    const unreachableUrl = closed.url;
    await closed.stop();
    const started = await ServerProcess.start(env.env({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_LICENSE_URL: unreachableUrl }));
    server = started.server;

    await server.waitForLog((line) => line.msg === 'Could not fetch license — falling back to Community mode' && line.level === 50);
    const warning = await server.waitForLog((line) => line.msg.startsWith('License backend request failed'));
    expect(warning).toMatchObject({ level: 40, code: 'BACKEND.UNREACHABLE' });
    expect(await getLicense(started.url)).toMatchObject({ tier: 'Community', source: 'community', degraded: false });
  });

  it('refuses a bad configuration value with one line naming it, and no stack trace', async () => {
    server = ServerProcess.spawn(env.env({ SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: 'soon' }));
    expect(await server.exitCode()).toBe(2);
    expect(server.stderr.trim().split('\n')).toEqual([
      'Invalid SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: expected a duration: a number with a unit ms, s, m, h or d (for example 30s, 24h, 14d), from 1s to 30d (got "soon")',
    ]);
    expect(server.stdout).toBe('');
  });
});

describe('npm start as a container\'s main process', () => {
  it('passes SIGTERM to the server: it stops cleanly and leaves no orphaned process behind', async () => {
    const env = await AgentEnvironment.create();
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as { port: number };
    probe.close();
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: new URL('../../', import.meta.url),
      env: { ...env.env(), PATH: process.env.PATH ?? '', HOME: env.dir, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      npm.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const ready = async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200;
      for (let i = 0; i < 300 && !(await ready()); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await ready()).toBe(true);

      npm.kill('SIGTERM');
      const [code] = (await once(npm, 'exit')) as [number | null];

      expect(code).toBe(0);
      expect(output).toContain('"msg":"Stopped"');
      // Nothing listens any more: the server was not left running without its parent.
      expect(await fetch(`http://127.0.0.1:${port}/healthz`).then(() => 'answered', () => 'refused')).toBe('refused');
    } finally {
      npm.kill('SIGKILL');
      await env.dispose();
    }
  }, 60_000);
});
