import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { issueToken, respondJson } from '../support/fake-license-backend.js';
import { ServerProcess } from '../support/server-process.js';
import { aLicenseToken } from '../support/signing-keys.js';

const API_KEY = 'sk-e2e-compatibility-key';
const PINO_WARN = 40;
const PINO_ERROR = 50;

/** Issue 13 §5 and §6 against the built server (`dist/app/main.js`). */
describe('the built server and the original product', () => {
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

  const admin = (url: string, path: string, method = 'GET') => fetch(`${url}${path}`, { method, headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  const licenseStatus = async (url: string) => (await (await admin(url, '/admin/license')).json()) as Record<string, unknown>;

  describe('compatibility (§5)', () => {
    it("runs the Scala server's offline license from a cache directory holding only license-cache.jwt, without writing the old form", async () => {
      const jwt = await aLicenseToken(env.key, { tier: 'pro', orgName: 'Moved From Scala' });
      mkdirSync(env.cacheDir, { mode: 0o700 });
      writeFileSync(join(env.cacheDir, 'license-cache.jwt'), `${jwt}\n`, { mode: 0o644 });
      const started = await ServerProcess.start(env.env());
      server = started.server;

      await server.waitForLog((line) => line.msg === 'Using cached license');
      expect(await licenseStatus(started.url)).toMatchObject({ tier: 'Pro', source: 'cache', org_name: 'Moved From Scala' });
      expect((await fetch(`${started.url}/demo/query?rows=20000`)).status).toBe(200);

      expect(await server.stop('SIGTERM')).toBe(0);
      expect(readFileSync(join(env.cacheDir, 'license-cache.jwt'), 'utf8')).toBe(`${jwt}\n`);
      expect(readdirSync(env.cacheDir)).not.toContain('license-cache.json');
      expect(server.stdout).not.toContain(jwt);
    });

    it('moves aside, never deletes, an original cache file that can never verify', async () => {
      const forged = `${(await aLicenseToken(env.key, { tier: 'enterprise' })).slice(0, -4)}AAAA`;
      mkdirSync(env.cacheDir, { mode: 0o700 });
      writeFileSync(join(env.cacheDir, 'license-cache.jwt'), `${forged}\n`);
      const started = await ServerProcess.start(env.env());
      server = started.server;

      const moved = await server.waitForLog((line) => line.msg.startsWith('Cached license rejected and moved aside'));
      expect(moved.level).toBe(PINO_WARN);
      expect(await licenseStatus(started.url)).toMatchObject({ tier: 'Community', source: 'community' });
      const aside = readdirSync(env.cacheDir).filter((name) => name.startsWith('license-cache.jwt.rejected-'));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(env.cacheDir, aside[0] as string), 'utf8')).toBe(`${forged}\n`);
    });

    it('falls back from a refused static license, without an API key, with the original ERROR line', async () => {
      const expired = await aLicenseToken(env.key, { issuedAt: 1_600_000_000, expiresAt: 1_600_086_400 });
      const started = await ServerProcess.start(env.env({ SOFTCLIENT4ES_LICENSE_KEY: expired }));
      server = started.server;

      const line = await server.waitForLog((l) => l.msg === 'License expired or invalid — running in Community mode');
      expect(line.level).toBe(PINO_ERROR);
      expect(await licenseStatus(started.url)).toMatchObject({ tier: 'Community', source: 'community' });
      expect(server.lines.map((l) => l.msg)).not.toContain('Running in Community mode');
    });

    it('reads claims as the original does: names trimmed and in any case, an unknown platform ignored with one WARN', async () => {
      const jwt = await aLicenseToken(env.key, { tier: 'pro', platform: 'Mars', features: [' REPL\n', 'Federation', 'time_travel'] });
      const started = await ServerProcess.start(env.env({ SOFTCLIENT4ES_LICENSE_KEY: jwt }));
      server = started.server;

      await server.waitForLog((line) => line.msg === 'License upgraded from Community to Pro');
      expect(await licenseStatus(started.url)).toMatchObject({ tier: 'Pro', source: 'static', platform: null, features: ['federation', 'repl'] });
      expect(server.lines.filter((line) => String(line.msg).startsWith('License token platform "Mars"'))).toEqual([
        expect.objectContaining({ level: PINO_WARN }),
      ]);
    });
  });

  describe('usage counters with the refresh (§6)', () => {
    const startWithApiKey = async (overrides: Record<string, string> = {}) => {
      env.backend.handle(respondJson(503, { error: 'maintenance' }));
      const started = await ServerProcess.start(env.env({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s', ...overrides }));
      server = started.server;
      await server.waitForLog((line) => line.msg === 'Could not fetch license — falling back to Community mode');
      return started.url;
    };

    it('sends a denial with the next forced refresh, and after that send succeeded, reports it no more', async () => {
      const url = await startWithApiKey();
      expect((await fetch(`${url}/demo/query?rows=20000`)).status).toBe(402);
      env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));

      expect((await admin(url, '/admin/license/refresh', 'POST')).status).toBe(200);
      expect((await admin(url, '/admin/license/refresh', 'POST')).status).toBe(200);

      const [atStart, withDenial, afterSuccess, ...more] = env.backend.tokenRequestBodies() as Record<string, unknown>[];
      expect(more).toEqual([]);
      const usageShape = {
        quota_denials: expect.any(Object),
        feature_denials: {},
        peak_usage: expect.any(Object),
        uptime_seconds: expect.any(Number),
        platform: process.platform,
      };
      for (const body of [atStart, withDenial, afterSuccess]) {
        expect(body).toStrictEqual({ instance_id: expect.stringMatching(/^[0-9a-f-]{36}$/), version: expect.any(String), usage: usageShape });
      }
      expect(atStart?.usage).toMatchObject({ quota_denials: {} });
      expect(withDenial?.usage).toMatchObject({ quota_denials: { max_result_rows: 1 } });
      expect(afterSuccess?.usage).toMatchObject({ quota_denials: {} });
      expect(Number.isInteger((afterSuccess?.usage as { uptime_seconds: number }).uptime_seconds)).toBe(true);
    });

    it('sends no usage with SOFTCLIENT4ES_TELEMETRY_ENABLED=false', async () => {
      const url = await startWithApiKey({ SOFTCLIENT4ES_TELEMETRY_ENABLED: 'false' });
      expect((await fetch(`${url}/demo/query?rows=20000`)).status).toBe(402);
      env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
      expect((await admin(url, '/admin/license/refresh', 'POST')).status).toBe(200);

      const bodies = env.backend.tokenRequestBodies();
      expect(bodies).toHaveLength(2);
      for (const body of bodies) expect(Object.keys(body as object).sort()).toEqual(['instance_id', 'version']);
    });

    it('refuses a bad SOFTCLIENT4ES_TELEMETRY_ENABLED with one line naming it, exit 2', async () => {
      server = ServerProcess.spawn(env.env({ SOFTCLIENT4ES_TELEMETRY_ENABLED: 'nope' }));

      expect(await server.exitCode()).toBe(2);
      expect(server.stderr.trim()).toBe('Invalid SOFTCLIENT4ES_TELEMETRY_ENABLED: expected true or false (got "nope")');
    });
  });
});
