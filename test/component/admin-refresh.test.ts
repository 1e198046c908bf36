import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import express, { type Express } from 'express';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createLicenseAgent } from '../../src/app/create-license-agent.js';
import { createHostApp } from '../../src/app/host-server.js';
import { OpenApiContract } from '../contract/openapi-contract.js';
import type { LicenseAgent } from '../../src/app/license-agent.js';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { FakeLicenseBackend, issueToken, respondJson } from '../support/fake-license-backend.js';
import { FixedClock, HOUR, MINUTE, SECOND } from '../support/fixed-clock.js';
import { ManualTimers, manualSystem } from '../support/manual-timers.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { aLicenseToken } from '../support/signing-keys.js';
import { gate, waitUntil } from '../support/waiting.js';

const API_KEY = 'sk-admin-refresh-component-key';
const AUTH = `Bearer ${ADMIN_TOKEN}`;
/** Above the Community `max_result_rows` (10 000), within Pro's (1 000 000). */
const PRO_SIZED_QUERY = '/demo/query?rows=500000';

const isoSeconds = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();


// Every response these tests provoke must also honour openapi.yaml.
let contract: OpenApiContract;
beforeAll(async () => {
  contract = await OpenApiContract.load();
});
afterEach(() => {
  expect(contract.takeViolations()).toEqual([]);
});

describe('POST /admin/license/refresh', () => {
  let env: AgentEnvironment;
  let logger: RecordingLogger;
  let clock: FixedClock;
  let timers: ManualTimers;
  let agents: LicenseAgent[];
  let nowSeconds: number;

  beforeEach(async () => {
    env = await AgentEnvironment.create();
    logger = new RecordingLogger();
    clock = new FixedClock(new Date());
    timers = new ManualTimers(clock);
    agents = [];
    nowSeconds = Math.floor(clock.now().getTime() / 1000);
  });
  afterEach(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await env.dispose();
  });

  const startHost = async (overrides: Record<string, string> = {}) => {
    const config = env.config({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: '1h', ...overrides });
    const agent = await createLicenseAgent(config, { logger, modules: { system: manualSystem(clock, timers) } });
    agents.push(agent);
    await agent.start();
    return { agent, app: contract.guard(createHostApp(agent, logger)) };
  };
  const forceRefresh = (app: Express) => request(app).post('/admin/license/refresh').set('Authorization', AUTH);
  const licenseStatus = async (app: Express) => (await request(app).get('/admin/license').set('Authorization', AUTH).expect(200)).body;
  const token = (tier: string, options: { trial?: boolean; days?: number } = {}) =>
    aLicenseToken(env.key, { tier, trial: options.trial ?? false, expiresAt: nowSeconds + (options.days ?? 90) * 86_400 }, clock.now().getTime());

  it('answers 200 with the new license when the backend issues Pro, and enforces its quotas at once', async () => {
    env.backend.handle(respondJson(503, { error: 'maintenance', message: 'back soon' }));
    const { app } = await startHost();
    expect((await licenseStatus(app)).tier).toBe('Community');
    await request(app).get(PRO_SIZED_QUERY).expect(402);

    env.backend.handle(issueToken(await token('pro', { trial: true, days: 30 })));
    const response = await forceRefresh(app).expect(200).expect('Content-Type', /json/);

    expect(response.body).toEqual({
      status: 'refreshed',
      previous_tier: 'Community',
      new_tier: 'Pro',
      trial: true,
      expires_at: isoSeconds(nowSeconds + 30 * 86_400),
      message: expect.any(String),
    });
    await request(app).get(PRO_SIZED_QUERY).expect(200, { ok: true, tier: 'Pro' });
    expect(await licenseStatus(app)).toMatchObject({ tier: 'Pro', source: 'api_key', trial: true, degraded: false });
    expect(logger.at('info')).toContain('License upgraded from Community to Pro');
  });

  it('reports an unchanged tier as refreshed too (Pro to Pro)', async () => {
    env.backend.handle(issueToken(await token('pro')));
    const { app } = await startHost();
    const response = await forceRefresh(app).expect(200);
    expect(response.body).toMatchObject({ status: 'refreshed', previous_tier: 'Pro', new_tier: 'Pro', trial: false });
    expect(env.backend.requests).toHaveLength(2);
  });

  describe('when the backend fails', () => {
    const failures: [string, (backend: FakeLicenseBackend) => Promise<void>, string | RegExp][] = [
      [
        'answers HTTP 500',
        async (backend) => {
          backend.handle(respondJson(500, { error: 'internal', message: 'database down' }));
        },
        'license backend answered HTTP 500: database down',
      ],
      ['is unreachable', (backend) => backend.stop(), /^license backend at 127\.0\.0\.1:\d+ is unreachable \(connection refused\)$/],
    ];

    it.each(failures)('answers 502 when it %s, naming the license still in force, and does not downgrade', async (_name, fail, reason) => {
      const backend = await FakeLicenseBackend.start(issueToken(await token('pro', { days: 60 })));
      try {
        const { app, agent } = await startHost({ SOFTCLIENT4ES_LICENSE_URL: backend.url });
        const before = agent.current();
        await fail(backend);

        const response = await forceRefresh(app).expect(502);

        expect(response.body).toEqual({
          status: 'failed',
          previous_tier: 'Pro',
          new_tier: 'Pro',
          trial: false,
          expires_at: isoSeconds(nowSeconds + 60 * 86_400),
          message: expect.stringMatching(reason),
        });
        expect(agent.current()).toBe(before);
        expect(await licenseStatus(app)).toMatchObject({ tier: 'Pro', source: 'api_key', degraded: false });
        await request(app).get(PRO_SIZED_QUERY).expect(200, { ok: true, tier: 'Pro' });
        expect(logger.messages().filter((message) => message.startsWith('License downgraded'))).toEqual([]);
      } finally {
        await backend.stop().catch(() => undefined);
      }
    });

    it('answers 502 after a 401 that falls back to Community, with the backend reason', async () => {
      env.backend.handle(issueToken(await token('pro')));
      const { app, agent } = await startHost();
      await agent.flush(); // the cache is written behind the install
      rmSync(join(env.cacheDir, 'license-cache.json')); // no cache to fall back to
      env.backend.handle(respondJson(401, { error: 'api_key_revoked', message: 'This API key was revoked' }));

      const response = await forceRefresh(app).expect(502);

      expect(response.body).toEqual({
        status: 'failed',
        previous_tier: 'Pro',
        new_tier: 'Community',
        trial: false,
        expires_at: null,
        message: 'This API key was revoked',
      });
      expect(await licenseStatus(app)).toMatchObject({ tier: 'Community', source: 'community', degraded: true });
      await request(app).get(PRO_SIZED_QUERY).expect(402);
    });
  });

  it('answers 409 when no API key is configured, without calling the backend', async () => {
    const { app } = await startHost({ SOFTCLIENT4ES_API_KEY: '' });
    const response = await forceRefresh(app).expect(409);
    expect(response.body).toEqual({ error: 'no_api_key', message: expect.stringContaining('SOFTCLIENT4ES_API_KEY') });
    expect(env.backend.requests).toEqual([]);
  });

  describe('rate limit (SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL)', () => {
    it('answers 429 with Retry-After in whole seconds until the interval after the last forced refresh has passed', async () => {
      env.backend.handle(issueToken(await token('pro')));
      const { app } = await startHost({ SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '30s' });

      await forceRefresh(app).expect(200); // the start-up resolution does not count
      const tooSoon = await forceRefresh(app).expect(429);
      expect(tooSoon.headers['retry-after']).toBe('30');
      expect(tooSoon.body).toEqual({ error: 'refresh_too_soon', message: expect.any(String) });

      clock.advance(28.5 * SECOND);
      expect((await forceRefresh(app).expect(429)).headers['retry-after']).toBe('2'); // 1.5 s, rounded up
      clock.advance(1.5 * SECOND - 1);
      expect((await forceRefresh(app).expect(429)).headers['retry-after']).toBe('1'); // 1 ms, rounded up

      clock.advance(1);
      await forceRefresh(app).expect(200);
      expect(env.backend.requests).toHaveLength(3); // start-up and two forced refreshes; no 429 reached it
    });

    it('does not count periodic refreshes', async () => {
      env.backend.handle(issueToken(await token('pro')));
      const { app, agent } = await startHost({ SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '30s' });
      await forceRefresh(app).expect(200);
      const forcedAttempt = agent.status().refresh.last_attempt_at;
      await timers.advance(2 * HOUR); // the periodic refresh is due 1 h ± 10 % after the forced one
      await waitUntil(() => agent.status().refresh.last_attempt_at !== forcedAttempt, 'the periodic refresh has finished');
      expect(env.backend.requests).toHaveLength(3);
      await forceRefresh(app).expect(200); // moments after the periodic refresh, long after the last forced one
    });

    it('is off with 0s', async () => {
      env.backend.handle(issueToken(await token('pro')));
      const { app } = await startHost({ SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s' });
      await forceRefresh(app).expect(200);
      await forceRefresh(app).expect(200);
      await forceRefresh(app).expect(200);
      expect(env.backend.requests).toHaveLength(4);
    });
  });

  describe('authentication', () => {
    it.each([
      ['without a token', undefined],
      ['with a wrong token', 'Bearer not-the-admin-token'],
      ['with the token in another scheme', `Basic ${ADMIN_TOKEN}`],
    ])('answers 401 %s, with WWW-Authenticate, and does not refresh', async (_name, authorization) => {
      env.backend.handle(issueToken(await token('pro')));
      const { app } = await startHost();
      const call = request(app).post('/admin/license/refresh');
      const response = await (authorization === undefined ? call : call.set('Authorization', authorization));
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="softclient4es-admin"');
      expect(response.body).toEqual({ error: 'unauthorized', message: 'a valid admin bearer token is required' });
      expect(env.backend.requests).toHaveLength(1); // the start-up resolution only
    });
  });

  it('gives callers that arrive during an in-flight refresh its one backend request and its answer', async () => {
    env.backend.handle(issueToken(await token('pro')));
    const { app: hostApp } = await startHost();
    const backendReached = gate();
    const release = gate();
    const enterprise = await token('enterprise');
    env.backend.handle(async (recorded, response) => {
      backendReached.open();
      await release.opened;
      await issueToken(enterprise)(recorded, response);
    });
    let arrived = 0;
    const app = express();
    app.use((req, _res, next) => {
      if (req.path === '/admin/license/refresh') arrived += 1;
      next();
    });
    app.use(hostApp);

    const callers = Array.from({ length: 10 }, () => forceRefresh(app).then((response) => response));
    await backendReached.opened;
    await waitUntil(() => arrived === callers.length, 'every caller has reached the admin API');
    release.open();
    const responses = await Promise.all(callers);

    expect(env.backend.requests).toHaveLength(2); // start-up, then one for all ten callers
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.body).toEqual(responses[0]?.body);
    }
    expect(responses[0]?.body).toMatchObject({ status: 'refreshed', previous_tier: 'Pro', new_tier: 'Enterprise' });
  });
});

describe('GET /admin/license refresh status', () => {
  let env: AgentEnvironment;
  let clock: FixedClock;
  let timers: ManualTimers;
  let agent: LicenseAgent | undefined;

  beforeEach(async () => {
    env = await AgentEnvironment.create();
    clock = new FixedClock(new Date());
    timers = new ManualTimers(clock);
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await env.dispose();
  });

  const startHost = async (overrides: Record<string, string> = {}) => {
    const config = env.config({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: '1h', ...overrides });
    const logger = new RecordingLogger();
    agent = await createLicenseAgent(config, { logger, modules: { system: manualSystem(clock, timers) } });
    await agent.start();
    return contract.guard(createHostApp(agent, logger));
  };
  const refreshStatus = async (app: Express) =>
    (await request(app).get('/admin/license').set('Authorization', AUTH).expect(200)).body.refresh as Record<string, unknown>;
  const msFromNow = (iso: unknown) => new Date(String(iso)).getTime() - clock.now().getTime();
  const proToken = () => aLicenseToken(env.key, { tier: 'pro' }, clock.now().getTime());

  it('reports the last successful attempt and the next periodic refresh', async () => {
    env.backend.handle(issueToken(await proToken()));
    const app = await startHost();
    clock.advance(5 * MINUTE);
    const attemptedAt = clock.now().toISOString();
    await request(app).post('/admin/license/refresh').set('Authorization', AUTH).expect(200);

    const refresh = await refreshStatus(app);
    expect(refresh).toEqual({
      enabled: true,
      last_attempt_at: attemptedAt,
      last_outcome: 'refreshed',
      last_error: null,
      next_at: expect.any(String),
    });
    // The configured interval (1 h) with ±10 % jitter.
    expect(msFromNow(refresh.next_at)).toBeGreaterThanOrEqual(0.9 * HOUR);
    expect(msFromNow(refresh.next_at)).toBeLessThanOrEqual(1.1 * HOUR);
  });

  it('reports the last failed attempt with its error and a retry soon', async () => {
    env.backend.handle(issueToken(await proToken()));
    const app = await startHost();
    clock.advance(5 * MINUTE);
    const attemptedAt = clock.now().toISOString();
    env.backend.handle(respondJson(500, { error: 'internal', message: 'database down' }));
    await request(app).post('/admin/license/refresh').set('Authorization', AUTH).expect(502);

    const refresh = await refreshStatus(app);
    expect(refresh).toEqual({
      enabled: true,
      last_attempt_at: attemptedAt,
      last_outcome: 'failed',
      last_error: 'BACKEND.HTTP_STATUS: license backend answered HTTP 500: database down',
      next_at: expect.any(String),
    });
    // First retry: 1 s nominal, drawn between half and one and a half times that.
    expect(msFromNow(refresh.next_at)).toBeGreaterThanOrEqual(0.5 * SECOND);
    expect(msFromNow(refresh.next_at)).toBeLessThanOrEqual(1.5 * SECOND);
  });

  it('reports periodic refresh as disabled, with no next refresh, when it is switched off', async () => {
    env.backend.handle(issueToken(await proToken()));
    const app = await startHost({ SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: 'false' });
    expect(await refreshStatus(app)).toEqual({
      enabled: false,
      last_attempt_at: clock.now().toISOString(),
      last_outcome: 'refreshed',
      last_error: null,
      next_at: null,
    });
  });

  it('reports a refresh that made no backend call as skipped (static JWT in force), while the forced refresh answers 200 refreshed', async () => {
    env.backend.handle(issueToken(await proToken()));
    const staticJwt = await aLicenseToken(env.key, { tier: 'enterprise' }, clock.now().getTime());
    const app = await startHost({ SOFTCLIENT4ES_LICENSE_KEY: staticJwt });
    const forced = await request(app).post('/admin/license/refresh').set('Authorization', AUTH).expect(200);

    expect(forced.body).toMatchObject({ status: 'refreshed', new_tier: 'Enterprise' });
    expect(await refreshStatus(app)).toMatchObject({ last_outcome: 'skipped', last_error: null });
    expect(env.backend.requests).toHaveLength(0);
    const metrics = (await request(app).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^softclient4es_license_refresh_attempts_total\{outcome="skipped",reason="none"\} 2$/m);
    expect(metrics).not.toMatch(/outcome="refreshed"/);
    expect(metrics).toMatch(/^softclient4es_license_last_successful_refresh_timestamp_seconds 0$/m);
  });

  it('reports nothing attempted yet before the agent has started', async () => {
    const logger = new RecordingLogger();
    agent = await createLicenseAgent(env.config({ SOFTCLIENT4ES_API_KEY: API_KEY }), { logger, modules: { system: manualSystem(clock, timers) } });
    const app = contract.guard(createHostApp(agent, logger));
    expect(await refreshStatus(app)).toEqual({ enabled: true, last_attempt_at: null, last_outcome: null, last_error: null, next_at: null });
  });
});
