import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import express from 'express';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createLicenseAgent } from '../../../src/app/create-license-agent.js';
import { createHostApp } from '../../../src/app/host-server.js';
import type { LicenseAgent } from '../../../src/app/license-agent.js';
import type { RefreshOutcome } from '../../../src/domain/refresh/refresh-license.js';
import { ADMIN_TOKEN, AgentEnvironment } from '../../support/agent-environment.js';
import { issueToken, respondJson, type BackendHandler } from '../../support/fake-license-backend.js';
import { DAY, FixedClock, HOUR } from '../../support/fixed-clock.js';
import { ManualTimers, manualSystem } from '../../support/manual-timers.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { aLicenseToken } from '../../support/signing-keys.js';
import { gate, waitUntil } from '../../support/waiting.js';

const API_KEY = 'sk-refresh-integration-key';
const CACHE_FILE = 'license-cache.json';
const REVOKED = respondJson(401, { error: 'api_key_revoked', message: 'This API key was revoked on 2026-11-01' });

describe('license refresh with a real agent and a real HTTP backend', () => {
  let env: AgentEnvironment;
  let logger: RecordingLogger;
  let clock: FixedClock;
  let timers: ManualTimers;
  let agent: LicenseAgent | undefined;

  beforeEach(async () => {
    env = await AgentEnvironment.create();
    logger = new RecordingLogger();
    clock = new FixedClock(new Date());
    timers = new ManualTimers(clock);
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await env.dispose();
  });

  const startAgent = async (overrides: Record<string, string> = {}): Promise<LicenseAgent> => {
    const config = env.config({ SOFTCLIENT4ES_API_KEY: API_KEY, ...overrides });
    agent = await createLicenseAgent(config, { logger, modules: { system: manualSystem(clock, timers) } });
    await agent.start();
    return agent;
  };
  const licenseToken = (tier: string, expiresInMs = 365 * DAY) =>
    aLicenseToken(env.key, { tier, expiresAt: Math.floor((clock.now().getTime() + expiresInMs) / 1000) }, clock.now().getTime());
  /** A backend that answers `then` only once the test opens the returned gate. */
  const slowBackend = (then: BackendHandler) => {
    const reached = gate();
    const release = gate();
    env.backend.handle(async (recorded, response) => {
      reached.open();
      await release.opened;
      await then(recorded, response);
    });
    return { reached: reached.opened, release: release.open };
  };
  const tierChanges = () => logger.at('info').filter((message) => /^License (upgraded|downgraded|restored)/.test(message));

  describe('single flight', () => {
    it('sends one backend request for 25 concurrent agent.refresh() calls, and gives all of them its outcome', async () => {
      env.backend.handle(issueToken(await licenseToken('pro')));
      const started = await startAgent();
      const before = env.backend.requests.length;
      const backend = slowBackend(issueToken(await licenseToken('enterprise')));

      const callers = Array.from({ length: 25 }, () => started.refresh());
      await backend.reached;
      backend.release();
      const outcomes = await Promise.all(callers);

      expect(env.backend.requests.length - before).toBe(1);
      expect(new Set(outcomes).size).toBe(1);
      expect(outcomes[0]).toMatchObject({ status: 'refreshed', previousTier: 'pro', failure: null });
      expect(outcomes[0]?.snapshot.license.tier).toBe('enterprise');
      expect(tierChanges()).toEqual(['License upgraded from Community to Pro', 'License upgraded from Pro to Enterprise']);
    });

    it.each([
      ['a new license', null, 200, 'refreshed'],
      ['a failure', respondJson(503, { error: 'unavailable', message: 'overloaded' }), 502, 'failed'],
    ] as [string, BackendHandler | null, number, string][])(
      'shares one backend request between agent.refresh() and POST /admin/license/refresh callers (%s)',
      async (_name, answer, httpStatus, status) => {
        env.backend.handle(issueToken(await licenseToken('pro')));
        const started = await startAgent();
        const before = env.backend.requests.length;
        const enterprise = await licenseToken('enterprise');
        const backend = slowBackend(answer ?? issueToken(enterprise));
        let arrived = 0;
        const app = express();
        app.use((req, _res, next) => {
          if (req.path === '/admin/license/refresh') arrived += 1;
          next();
        });
        app.use(createHostApp(started, logger));

        const direct: Promise<RefreshOutcome>[] = [];
        const posted = [];
        for (let i = 0; i < 25; i += 1) {
          if (i % 2 === 0) direct.push(started.refresh());
          else posted.push(request(app).post('/admin/license/refresh').set('Authorization', `Bearer ${ADMIN_TOKEN}`).then((r) => r));
        }
        await backend.reached;
        await waitUntil(() => arrived === posted.length, 'every POST has reached the admin API');
        backend.release();
        const [outcomes, responses] = await Promise.all([Promise.all(direct), Promise.all(posted)]);

        expect(env.backend.requests.length - before).toBe(1);
        expect(new Set(outcomes).size).toBe(1);
        const outcome = outcomes[0];
        expect(outcome?.status).toBe(status);
        for (const response of responses) {
          expect(response.status).toBe(httpStatus);
          expect(response.body).toEqual({
            status,
            previous_tier: 'Pro',
            new_tier: status === 'refreshed' ? 'Enterprise' : 'Pro',
            trial: false,
            expires_at: outcome?.snapshot.license.expiresAt?.toISOString(),
            message: expect.any(String),
          });
          expect(response.body).toEqual(responses[0]?.body);
        }
      },
    );
  });

  describe('transient backend failures while the license in force is valid', () => {
    const transientFailures: [string, BackendHandler, string, Record<string, string>?][] = [
      ['HTTP 500', respondJson(500, { error: 'internal', message: 'database down' }), 'BACKEND.HTTP_STATUS'],
      ['HTTP 503 with Retry-After', respondJson(503, { error: 'unavailable' }, { 'Retry-After': '120' }), 'BACKEND.HTTP_STATUS'],
      ['HTTP 429', respondJson(429, { error: 'rate_limited' }), 'BACKEND.HTTP_STATUS'],
      ['a timeout', () => undefined /* never answers */, 'BACKEND.TIMEOUT', { SOFTCLIENT4ES_LICENSE_READ_TIMEOUT: '500ms' }],
      [
        'a malformed answer',
        (_recorded, response) => {
          response.writeHead(200, { 'Content-Type': 'application/json' });
          response.end('{"jwt": ');
        },
        'BACKEND.MALFORMED_RESPONSE',
      ],
      [
        'a connection reset',
        (_recorded, response) => {
          response.socket?.destroy();
        },
        'BACKEND.UNREACHABLE',
      ],
    ];

    it.each(transientFailures)('keeps the Pro license through %s', async (_name, failure, code, overrides = {}) => {
      env.backend.handle(issueToken(await licenseToken('pro')));
      const started = await startAgent(overrides);
      const before = started.current();
      expect(before.license).toMatchObject({ tier: 'pro', source: 'api_key' });
      env.backend.handle(failure);

      const outcome = await started.refresh();

      expect(outcome).toMatchObject({ status: 'failed', previousTier: 'pro', failure: { code } });
      expect(outcome.snapshot).toBe(before);
      expect(started.current()).toBe(before);
      expect(started.status()).toMatchObject({ tier: 'Pro', source: 'api_key', degraded: false });
      expect(tierChanges()).toEqual(['License upgraded from Community to Pro']);
      expect(logger.messages()).not.toContain('Using cached license');
      expect(logger.messages()).not.toContain('Could not fetch license — falling back to Community mode');
    });

    it('passes on the backend Retry-After', async () => {
      env.backend.handle(issueToken(await licenseToken('pro')));
      const started = await startAgent();
      env.backend.handle(respondJson(503, { error: 'unavailable' }, { 'Retry-After': '120' }));
      expect((await started.refresh()).retryAfterMs).toBe(120_000);
    });

    it('keeps a license that expired but is still in its grace period', async () => {
      env.backend.handle(issueToken(await licenseToken('pro', 2 * DAY)));
      const started = await startAgent();
      clock.advance(5 * DAY); // 3 days past exp, well within the 14-day grace period
      env.backend.handle(respondJson(500, { error: 'internal' }));

      const outcome = await started.refresh();

      expect(outcome.status).toBe('failed');
      expect(started.current().license).toMatchObject({ tier: 'pro', source: 'api_key' });
      expect(tierChanges()).toEqual(['License upgraded from Community to Pro']);
    });

    it('lets go of a license past its grace period: Community takes over, the expired cache is kept unused', async () => {
      env.backend.handle(issueToken(await licenseToken('pro', 2 * DAY)));
      const started = await startAgent();
      await started.flush(); // the cache is written behind the install
      clock.advance(17 * DAY); // past exp + 14 days of grace
      env.backend.handle(respondJson(500, { error: 'internal' }));

      await started.refresh();

      expect(started.current()).toMatchObject({ license: { tier: 'community', source: 'community' }, degraded: true });
      // Expired by this clock is a local verdict: the file stays (DESIGN §8, amended).
      expect(existsSync(join(env.cacheDir, CACHE_FILE))).toBe(true);
      expect(logger.at('error')).toContain('Could not fetch license — falling back to Community mode');
      expect(tierChanges()).toEqual(['License upgraded from Community to Pro', 'License downgraded from Pro to Community']);
    });
  });

  describe('a definitive rejection (401)', () => {
    it('falls back to the cached license when there is a valid one', async () => {
      env.backend.handle(issueToken(await licenseToken('pro')));
      const started = await startAgent();
      await started.flush(); // the cache is written behind the install
      logger.clear();
      env.backend.handle(REVOKED);

      const outcome = await started.refresh();

      expect(outcome).toMatchObject({ status: 'failed', failure: { code: 'BACKEND.REJECTED', message: 'This API key was revoked on 2026-11-01' } });
      expect(started.current()).toMatchObject({ license: { tier: 'pro', source: 'cache' }, degraded: false });
      expect(logger.at('error')).toEqual(['License backend rejected the API key (HTTP 401): This API key was revoked on 2026-11-01']);
      expect(logger.at('warn')).toEqual(['Using cached license']);
      expect(tierChanges()).toEqual([]);
    });

    it('falls back to Community without a cache, logging the downgrade, and restores Pro when the backend issues it again', async () => {
      const pro = await licenseToken('pro');
      env.backend.handle(issueToken(pro));
      const started = await startAgent();
      await started.flush(); // the cache is written behind the install
      rmSync(join(env.cacheDir, CACHE_FILE));
      logger.clear();
      env.backend.handle(REVOKED);

      const outcome = await started.refresh();

      expect(outcome).toMatchObject({ status: 'failed', previousTier: 'pro', failure: { code: 'BACKEND.REJECTED' } });
      expect(started.current()).toMatchObject({ license: { tier: 'community', source: 'community' }, degraded: true });
      expect(logger.at('error')).toEqual([
        'License backend rejected the API key (HTTP 401): This API key was revoked on 2026-11-01',
        'Could not fetch license — falling back to Community mode',
      ]);
      expect(logger.at('info')).toContain('License downgraded from Pro to Community');
      expect(started.status()).toMatchObject({ tier: 'Community', degraded: true });

      env.backend.handle(issueToken(pro));
      await started.refresh();
      expect(started.current()).toMatchObject({ license: { tier: 'pro', source: 'api_key' }, degraded: false });
      expect(tierChanges()).toEqual(['License downgraded from Pro to Community', 'License restored to Pro']);
    });
  });

  describe('periodic refresh', () => {
    it('calls the backend again when the interval has passed', async () => {
      env.backend.handle(issueToken(await licenseToken('pro')));
      const started = await startAgent({ SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: '1h' });
      const startUpAttempt = started.status().refresh.last_attempt_at;
      expect(env.backend.requests).toHaveLength(1);

      await timers.advance(HOUR / 2);
      expect(env.backend.requests).toHaveLength(1);
      env.backend.handle(issueToken(await licenseToken('enterprise')));
      await timers.advance(HOUR); // past 1 h ± 10 %
      await waitUntil(() => started.status().refresh.last_attempt_at !== startUpAttempt, 'the periodic refresh has finished');

      expect(env.backend.requests).toHaveLength(2);
      expect(started.current().license.tier).toBe('enterprise');
      expect(started.status().refresh).toMatchObject({ enabled: true, last_outcome: 'refreshed', next_at: expect.any(String) });
    });

    it('never calls the backend on its own when SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED=false', async () => {
      env.backend.handle(issueToken(await licenseToken('pro', 365 * DAY)));
      const started = await startAgent({ SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: 'false', SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: '1h' });
      expect(started.current().license.tier).toBe('pro');

      // The only timer is the expiry watch, at the end of the grace period (365 + 14 days).
      expect(timers.pending).toBe(1);
      const graceEndsAt = (started.current().license.expiresAt?.getTime() ?? Number.NaN) + 14 * DAY;
      expect(timers.nextDelay()).toBe(graceEndsAt - clock.now().getTime() + 1);
      await timers.advance(300 * DAY);
      expect(env.backend.requests).toHaveLength(1);
      expect(started.status().refresh).toMatchObject({ enabled: false, next_at: null });
    });

    it('never calls the backend without an API key', async () => {
      const started = await startAgent({ SOFTCLIENT4ES_API_KEY: '' });
      expect(started.current().license.tier).toBe('community');

      expect(timers.delays).toEqual([]);
      await timers.advance(30 * DAY);
      expect(env.backend.requests).toEqual([]);
      expect(started.status().refresh).toEqual({ enabled: false, last_attempt_at: expect.any(String), last_outcome: 'skipped', last_error: null, next_at: null });
    });
  });
});
