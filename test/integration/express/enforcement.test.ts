import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { get as httpGet, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { ExpressEnforcement } from '../../../src/adapters/express/enforcement.js';
import { UsageQuotas, type EnforcementMode } from '../../../src/domain/enforcement/usage-quota.js';
import { ExpireLicense } from '../../../src/domain/expiry/expire-license.js';
import { GraceWarnings } from '../../../src/domain/expiry/grace-warnings.js';
import { COMMUNITY_LICENSE, licenseFromToken, type License } from '../../../src/domain/model/license.js';
import { LicenseState } from '../../../src/domain/model/license-state.js';
import type { Tier } from '../../../src/domain/model/tier.js';
import { DAY, FixedClock } from '../../support/fixed-clock.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { RecordingTelemetry } from '../../support/recording-telemetry.js';

const GRACE = 14 * DAY;

/** How many field lines named `name` the response had on the wire (superagent keeps the raw IncomingMessage as `res`). */
const fieldLines = (response: request.Response, name: string): number => {
  const raw = (response as unknown as { res: { rawHeaders: string[] } }).res.rawHeaders;
  return raw.filter((field, i) => i % 2 === 0 && field.toLowerCase() === name).length;
};
const UPGRADE_URL = 'https://example.test/upgrade';

function setUp(mode: EnforcementMode = 'enforce') {
  const clock = new FixedClock();
  const logger = new RecordingLogger();
  const telemetry = new RecordingTelemetry();
  const state = new LicenseState(clock.now());
  const usage = new UsageQuotas(() => state.current().license.quotas);
  const enforcement = new ExpressEnforcement({
    snapshot: () => state.current(),
    currentAt: (nowMs) => new ExpireLicense(state, clock, logger).current(nowMs),
    clock,
    graceWarnings: new GraceWarnings(clock, logger),
    telemetry,
    upgradeUrl: UPGRADE_URL,
    usage,
    mode,
    logger,
  });
  const install = (tier: Tier, expiresInMs = 365 * DAY, overrides: Partial<Parameters<typeof aLicenseClaims>[1]> = {}) => {
    const claims = aLicenseClaims(clock.now(), { tier, expiresAt: new Date(clock.now().getTime() + expiresInMs), ...overrides });
    const license: License = licenseFromToken(
      { jwt: 'x', gracePeriodMs: 14 * 86_400_000, claims, info: { kid: 'k', jti: null, issuedAt: claims.issuedAt, expiresAt: claims.expiresAt, fingerprint: 'f' } },
      'api_key',
    );
    state.install(license, [], clock.now());
  };
  return { clock, logger, telemetry, state, usage, enforcement, install };
}

/** A request handler that waits until the test releases it. */
function holdUntilReleased() {
  const releases: (() => void)[] = [];
  const handler: RequestHandler = (_req, _res, next) => {
    releases.push(() => next());
  };
  return {
    handler,
    releaseAll: () => releases.splice(0).forEach((release) => release()),
    releaseOne: () => releases.shift()?.(),
    held: () => releases.length,
  };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
};

describe('ExpressEnforcement', () => {
  let s: ReturnType<typeof setUp>;
  let app: Express;
  let server: Server | undefined;
  beforeEach(() => {
    s = setUp();
    app = express();
    app.use(s.enforcement.enforce());
  });
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  const listen = async () => {
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server?.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const ok: RequestHandler = (req, res) => {
    res.json({ ok: true, tier: req.license?.tier });
  };

  it('answers 402 quota_exceeded with the contract body, and lets allowed amounts through', async () => {
    app.get('/q', s.enforcement.requireQuota('max_result_rows', (req) => Number(req.query.rows)), ok);
    await request(app).get('/q?rows=10000').expect(200, { ok: true, tier: 'community' });
    const { body } = await request(app).get('/q?rows=10001').expect(402);
    expect(body).toEqual({
      error: 'quota_exceeded',
      tier: 'Community',
      quota: 'max_result_rows',
      limit: 10_000,
      requested: 10_001,
      message: 'max_result_rows is limited to 10000 on the Community tier; 10001 requested',
      upgrade_url: UPGRADE_URL,
    });
    expect(s.telemetry.denials).toEqual([{ kind: 'quota', name: 'max_result_rows', mode: 'enforce' }]);
  });

  it('answers 400 when the measured amount is not a number', async () => {
    app.get('/q', s.enforcement.requireQuota('max_joins', (req) => Number(req.query.joins)), ok);
    const { body } = await request(app).get('/q?joins=many').expect(400);
    expect(body.error).toBe('invalid_request');
  });

  it('answers 402 feature_not_available for a feature the license lacks', async () => {
    s.install('pro', 365 * DAY, { features: ['jdbc_driver'] });
    app.get('/f', s.enforcement.requireFeature('federation'), ok);
    app.get('/j', s.enforcement.requireFeature('jdbc_driver'), ok);
    await request(app).get('/j').expect(200);
    const { body } = await request(app).get('/f').expect(402);
    expect(body).toEqual({
      error: 'feature_not_available',
      tier: 'Pro',
      feature: 'federation',
      message: 'federation is not available on the Pro tier',
      upgrade_url: UPGRADE_URL,
    });
  });

  it('makes new quotas active for the very next request', async () => {
    app.get('/q', s.enforcement.requireQuota('max_result_rows', (req) => Number(req.query.rows)), ok);
    await request(app).get('/q?rows=50000').expect(402);
    s.install('pro');
    await request(app).get('/q?rows=50000').expect(200, { ok: true, tier: 'pro' });
  });

  it('pins one license for the whole request even when a refresh swaps it mid-request', async () => {
    s.install('pro');
    const hold = holdUntilReleased();
    app.get('/q', hold.handler, s.enforcement.requireQuota('max_result_rows', () => 500_000), ok);
    const url = await listen();

    const inFlight = fetch(`${url}/q`);
    await until(() => hold.held() === 1);
    s.state.install(COMMUNITY_LICENSE, [], s.clock.now()); // swapped while the request waits
    hold.releaseAll();

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, tier: 'pro' });

    const next = fetch(`${url}/q`); // the next request sees the new license
    await until(() => hold.held() === 1);
    hold.releaseAll();
    expect((await next).status).toBe(402);
  });

  it('lets a gate pin the license itself when enforce() is not mounted', async () => {
    const bare = express();
    bare.get('/q', s.enforcement.requireQuota('max_result_rows', () => 1), ok);
    s.install('pro', DAY);
    s.clock.advance(9 * DAY); // mid grace
    const response = await request(bare).get('/q').expect(200, { ok: true, tier: 'pro' });
    expect(response.headers.warning).toMatch(/^299 - "License expired on /);
  });

  it('lets host code assign req.license, and shows none on an app without enforcement', async () => {
    const assign: RequestHandler = (req, _res, next) => {
      req.license = { ...COMMUNITY_LICENSE, orgName: 'set by the host' };
      next();
    };
    const org: RequestHandler = (req, res) => {
      res.json({ org: req.license?.orgName ?? 'none' });
    };
    app.get('/pinned', ok);
    app.get('/assigned', assign, org);
    const other = express();
    other.get('/none', org);

    await request(app).get('/pinned').expect(200, { ok: true, tier: 'community' });
    await request(app).get('/assigned').expect(200, { org: 'set by the host' });
    await request(app).get('/pinned').expect(200, { ok: true, tier: 'community' });
    await request(other).get('/none').expect(200, { org: 'none' });
  });

  it('limits concurrent queries to max_concurrent_queries, answering 429 with Retry-After', async () => {
    const hold = holdUntilReleased();
    app.get('/q', s.enforcement.limitConcurrency(), hold.handler, ok);
    const url = await listen();

    const running = Array.from({ length: 4 }, () => fetch(`${url}/q`));
    await until(() => hold.held() === 4);
    const refused = await fetch(`${url}/q`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: 'quota_exceeded', quota: 'max_concurrent_queries', limit: 4, requested: 5, tier: 'Community' });

    hold.releaseAll();
    expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const again = fetch(`${url}/q`);
    await until(() => hold.held() === 1);
    hold.releaseAll();
    expect((await again).status).toBe(200);
  });

  it('releases a concurrency slot when the client goes away', async () => {
    const hold = holdUntilReleased();
    app.get('/q', s.enforcement.limitConcurrency(), hold.handler, ok);
    const url = await listen();

    const aborts = Array.from({ length: 4 }, () => new AbortController());
    const abandoned = aborts.map((controller) => fetch(`${url}/q`, { signal: controller.signal }).catch(() => 'aborted'));
    await until(() => hold.held() === 4);
    aborts.forEach((controller) => controller.abort());
    await Promise.all(abandoned);
    hold.releaseAll();

    const next = fetch(`${url}/q`);
    await until(() => hold.held() === 1);
    hold.releaseAll();
    expect((await next).status).toBe(200);
  });

  it('flags mid-grace responses with a Warning header and logs the grace WARN at most once an hour', async () => {
    s.install('pro', DAY);
    app.get('/q', ok);
    s.clock.advance(3 * DAY); // early grace
    expect((await request(app).get('/q')).headers.warning).toBeUndefined();

    s.clock.advance(6 * DAY); // mid grace
    for (let i = 0; i < 20; i += 1) {
      const response = await request(app).get('/q').expect(200);
      expect(response.headers.warning).toMatch(/^299 - "License expired on .*; renew it to keep the Pro tier"$/);
    }
    expect(s.logger.at('warn')).toEqual([expect.stringContaining('early grace'), expect.stringContaining('mid grace')]);
  });

  describe('the released guard of the concurrency gate', () => {
    it('frees one slot per response, though a response emits both finish and close: 5 never run under a limit of 4', async () => {
      const closed = countClosedResponses(app);
      const hold = holdUntilReleased();
      app.get('/q', s.enforcement.limitConcurrency(), hold.handler, ok);
      const url = await listen();

      const running = Array.from({ length: 4 }, () => fetch(`${url}/q`));
      await until(() => hold.held() === 4);
      hold.releaseOne();
      await until(() => closed.count === 1); // 'finish' then 'close' of the first response have run

      const fourth = fetch(`${url}/q`); // takes the one slot the first response freed
      await until(() => hold.held() === 4);
      const fifth = fetch(`${url}/q`).then((response) => response.status);
      await until(() => hold.held() === 5 || closed.count === 2);
      expect(hold.held()).toBe(4);
      expect(await fifth).toBe(429);

      hold.releaseAll();
      expect((await Promise.all([...running, fourth])).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    });
  });

  it('frees the slots of clients that went away while their handlers still wait (close without finish)', async () => {
    const closed = countClosedResponses(app);
    const hold = holdUntilReleased();
    app.get('/q', s.enforcement.limitConcurrency(), hold.handler, ok);
    const url = await listen();

    const aborts = Array.from({ length: 4 }, () => new AbortController());
    const abandoned = aborts.map((controller) => fetch(`${url}/q`, { signal: controller.signal }).catch(() => 'aborted'));
    await until(() => hold.held() === 4);
    aborts.forEach((controller) => controller.abort());
    await Promise.all(abandoned);
    await until(() => closed.count === 4); // the four handlers are still held: no response finished

    const next = fetch(`${url}/q`).then((response) => response.status);
    await until(() => hold.held() === 5 || closed.count === 5);
    expect(hold.held()).toBe(5);
    hold.releaseAll();
    expect(await next).toBe(200);
  });

  it('records a feature denial by the feature\'s name', async () => {
    app.get('/f', s.enforcement.requireFeature('federation'), ok);
    s.install('pro', 365 * DAY, { features: ['repl'] });
    await request(app).get('/f').expect(402);
    expect(s.telemetry.denials).toEqual([{ kind: 'feature', name: 'federation', mode: 'enforce' }]);
  });

  describe('the measured amount of a quota gate', () => {
    const measured = (amount: number) => {
      app.get('/q', s.enforcement.requireQuota('max_joins', () => amount), ok);
    };

    it.each([
      ['a negative amount', -1],
      ['a negative fraction', -0.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
    ])('answers 400 invalid_request for %s, and records no denial', async (_label, amount) => {
      measured(amount);
      const { body } = await request(app).get('/q').expect(400);
      expect(body).toEqual({ error: 'invalid_request', message: 'the amount requested against max_joins must be a non-negative number' });
      expect(s.telemetry.denials).toEqual([]);
    });

    it('answers 400 when requireQuota measures nothing (undefined or null): only capQuota lets an amount go unstated', async () => {
      for (const unstated of [undefined, null]) {
        const one = express();
        one.get('/q', s.enforcement.requireQuota('max_joins', () => unstated as never), ok);
        const { body } = await request(one).get('/q').expect(400);
        expect(body).toMatchObject({ error: 'invalid_request' });
      }
    });

    it('a 402 of a per-request quota carries no current usage and no Retry-After (those belong to capacity and concurrency)', async () => {
      measured(3);
      const response = await request(app).get('/q').expect(402);
      expect(response.body).not.toHaveProperty('current');
      expect(response.headers['retry-after']).toBeUndefined();
    });

    it('lets 0 and the limit itself through, and refuses one more than the limit', async () => {
      for (const [amount, status] of [
        [0, 200],
        [2, 200],
        [2.5, 402],
        [3, 402],
      ] as const) {
        const one = express();
        one.get('/q', s.enforcement.requireQuota('max_joins', () => amount), ok);
        await request(one).get('/q').expect(status);
      }
    });
  });

  describe('the query-parameter limit (1000, what Express keeps)', () => {
    const params = (count: number) => Array.from({ length: count }, (_, i) => `p${i}=1`).join('&');
    beforeEach(() => {
      app.use('/q', s.enforcement.requireQuota('max_result_rows', () => 1), ok);
    });

    it('measures a request of exactly 1000 parameters', async () => {
      await request(app).get(`/q?${params(1000)}`).expect(200);
    });

    it('answers 400 for 1001 parameters, which Express would cut to 1000', async () => {
      const { body } = await request(app).get(`/q?${params(1001)}`).expect(400);
      expect(body).toEqual({
        error: 'invalid_request',
        message: 'the query string has more than 1000 parameters; max_result_rows cannot be measured from it',
      });
    });

    it('counts empty parameters too, as the parsers do: 1001 of them are only 1000 characters', async () => {
      await request(app).get(`/q?${'&'.repeat(999)}`).expect(200); // 1000 empty parameters
      await request(app).get(`/q?${'&'.repeat(1000)}`).expect(400); // 1001
    });

    it('refuses 1000 empty parameters in front of the measured one, which Express drops (a quota bypass)', async () => {
      const bypass = express();
      bypass.get('/q', s.enforcement.requireQuota('max_result_rows', (req) => Number(req.query.rows ?? 0)), ok);
      await request(bypass).get('/q?rows=50000').expect(402);
      expect((await request(bypass).get(`/q?${'&'.repeat(999)}rows=50000`)).status).toBe(402); // parameter 1000: kept
      const { body } = await request(bypass).get(`/q?${'&'.repeat(1000)}rows=50000`).expect(400); // parameter 1001: dropped
      expect(body.error).toBe('invalid_request');
    });

    it('counts only the query string: "&" in the path is not a parameter', async () => {
      await request(app).get(`/q/${'&'.repeat(1500)}`).expect(200); // no query string at all
      await request(app).get(`/q/${'&'.repeat(1500)}?${params(1000)}`).expect(200);
      await request(app).get(`/q/${'&'.repeat(1500)}?${params(1001)}`).expect(400);
    });
  });

  describe('expiry judged on every request', () => {
    beforeEach(() => {
      app.get('/q', ok);
    });
    const expiresAt = () => new Date(s.clock.now().getTime() + DAY);

    it('sets no Warning up to mid grace included, and the exact Warning one millisecond after it', async () => {
      const expiry = expiresAt();
      s.install('pro', DAY); // 14 days of grace: mid grace starts 7 days after expiry
      s.clock.set(new Date(expiry.getTime() + 7 * DAY));
      const atMidGrace = await request(app).get('/q').expect(200, { ok: true, tier: 'pro' });
      expect(atMidGrace.headers.warning).toBeUndefined();

      s.clock.advance(1);
      const past = await request(app).get('/q').expect(200, { ok: true, tier: 'pro' });
      expect(past.headers.warning).toBe(`299 - "License expired on ${expiry.toISOString()}; renew it to keep the Pro tier"`);
    });

    it('logs no grace WARN at the instant of expiry, and one a millisecond later', async () => {
      const expiry = expiresAt();
      s.install('pro', DAY);
      s.clock.set(expiry);
      await request(app).get('/q').expect(200, { ok: true, tier: 'pro' });
      expect(s.logger.at('warn')).toEqual([]);
      s.clock.advance(1);
      await request(app).get('/q').expect(200, { ok: true, tier: 'pro' });
      expect(s.logger.at('warn')).toEqual([expect.stringContaining('early grace')]);
    });

    it('still honours the license at the last instant of grace, with the Warning', async () => {
      const expiry = expiresAt();
      s.install('pro', DAY);
      s.clock.set(new Date(expiry.getTime() + GRACE));
      const response = await request(app).get('/q').expect(200, { ok: true, tier: 'pro' });
      expect(response.headers.warning).toMatch(/^299 - /);
      expect(s.state.current().license.tier).toBe('pro');
    });

    it('runs the very request after a clock jump past grace under Community, expiring the license on read', async () => {
      const expiry = expiresAt();
      s.install('pro', DAY);
      s.clock.set(new Date(expiry.getTime() + GRACE + 1)); // no timer fired: the request notices
      const response = await request(app).get('/q').expect(200, { ok: true, tier: 'community' });
      expect(response.headers.warning).toBeUndefined();
      expect(s.state.current().license.tier).toBe('community');
      expect(s.state.current().degraded).toBe(true);
      expect(s.logger.at('warn')).toEqual(['License expired — running in Community mode']);
    });
  });
});

describe('gates refuse unknown names when the route is built, not per request', () => {
  const { enforcement } = setUp();

  it.each(['max_rows', 'MAX_JOINS', 'max_concurrent_queries', ''])('requireQuota(%j) throws a TypeError naming the valid quotas', (name) => {
    expect(() => enforcement.requireQuota(name as never, () => 1)).toThrow(
      new TypeError(`requireQuota: unknown quota ${JSON.stringify(name)}; expected one of max_materialized_views, max_result_rows, max_clusters, max_joins`),
    );
  });

  it.each([
    ['requireQuota', () => enforcement.requireQuota('max_joins', undefined as never), 'requireQuota(max_joins): measure must be a function of the request'],
    ['requireCapacity', () => enforcement.requireCapacity('max_clusters', 5 as never), 'requireCapacity(max_clusters): measure must be a function of the request'],
    ['capQuota', () => enforcement.capQuota('max_result_rows', null as never), 'capQuota(max_result_rows): measure must be a function of the request'],
  ])('%s without a measure function throws a TypeError saying so', (_gate, build, message) => {
    expect(build).toThrow(new TypeError(message));
  });

  it.each(['max_rows', 'Max_Clusters', ''])('requireCapacity(%j) throws a TypeError naming every quota', (name) => {
    expect(() => enforcement.requireCapacity(name as never, () => 1)).toThrow(
      new TypeError(
        `requireCapacity: unknown quota ${JSON.stringify(name)}; expected one of max_materialized_views, max_result_rows, max_clusters, max_joins, max_concurrent_queries`,
      ),
    );
  });

  it.each(['max_rows', 'max_concurrent_queries'])('capQuota(%j) throws a TypeError naming the measured quotas', (name) => {
    expect(() => enforcement.capQuota(name as never, () => 1)).toThrow(
      new TypeError(`capQuota: unknown quota ${JSON.stringify(name)}; expected one of max_materialized_views, max_result_rows, max_clusters, max_joins`),
    );
  });

  it.each(['federations', 'REPL', 'sql'])('requireFeature(%j) throws a TypeError naming the valid features', (name) => {
    expect(() => enforcement.requireFeature(name as never)).toThrow(
      new TypeError(
        `requireFeature: unknown feature ${JSON.stringify(name)}; expected one of materialized_views, jdbc_driver, adbc_driver, flight_sql, federation, repl`,
      ),
    );
  });
});

/** Counts the responses of `app` whose 'close' has been emitted (mounted before the routes). */
function countClosedResponses(app: Express): { count: number } {
  const closed = { count: 0 };
  app.use((_req, res, next) => {
    res.once('close', () => {
      closed.count += 1;
    });
    next();
  });
  return closed;
}

describe('usage quotas, capping and shadow mode', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });
  const listen = async (app: Express) => {
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server?.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const ok: RequestHandler = (req, res) => {
    res.json({ ok: true, tier: req.license?.tier, rows: req.licenseCap?.('max_result_rows') ?? 'none' });
  };
  const rowsParam = (req: Request) => (req.query.rows === undefined ? undefined : Number(req.query.rows));

  describe('requireCapacity', () => {
    it('answers 402 with current, requested and limit when usage + measure exceeds the limit; only checks', async () => {
      const s = setUp();
      const app = express();
      app.post('/views', s.enforcement.requireCapacity('max_materialized_views', () => 1), ok);
      await request(app).post('/views').expect(200);
      expect(s.usage.counter('max_materialized_views').current).toBe(0); // a check: the handler acquires
      s.usage.counter('max_materialized_views').set(1);
      const { body } = await request(app).post('/views').expect(402);
      expect(body).toEqual({
        error: 'quota_exceeded',
        tier: 'Community',
        quota: 'max_materialized_views',
        limit: 1,
        current: 1,
        requested: 1,
        message: 'max_materialized_views is limited to 1 on the Community tier; 1 in use, 1 more requested',
        upgrade_url: UPGRADE_URL,
      });
      expect(s.telemetry.denials).toEqual([{ kind: 'quota', name: 'max_materialized_views', mode: 'enforce' }]);
    });

    it('judges by the license pinned for the request: an upgrade makes room at once, a downgrade refuses above it', async () => {
      const s = setUp();
      const app = express();
      app.post('/clusters', s.enforcement.requireCapacity('max_clusters', (req) => Number(req.query.n)), ok);
      s.usage.counter('max_clusters').set(1);
      await request(app).post('/clusters?n=1').expect(402);
      s.install('pro'); // 5 clusters
      await request(app).post('/clusters?n=4').expect(200);
      await request(app).post('/clusters?n=5').expect(402);
      s.usage.counter('max_clusters').set(3);
      s.install('community'); // downgrade: 3 exist, limit 1
      expect((await request(app).post('/clusters?n=0').expect(402)).body).toMatchObject({ current: 3, requested: 0, limit: 1 });
    });

    it('answers 400 for an amount that is not a non-negative number, and refuses unknown quotas when built', async () => {
      const s = setUp();
      const app = express();
      app.post('/c', s.enforcement.requireCapacity('max_clusters', (req) => Number(req.query.n)), ok);
      expect((await request(app).post('/c?n=-1').expect(400)).body.error).toBe('invalid_request');
      expect(() => s.enforcement.requireCapacity('max_rows' as never, () => 1)).toThrow(TypeError);
      expect(() => s.enforcement.requireCapacity('max_clusters', 'n' as never)).toThrow(TypeError);
    });
  });

  describe('capQuota', () => {
    const capped = (s: ReturnType<typeof setUp>) => {
      const app = express();
      app.get('/q', s.enforcement.capQuota('max_result_rows', rowsParam), ok);
      return app;
    };

    it('answers 400 for an amount that is not a number, and the handler never runs', async () => {
      const s = setUp();
      const app = express();
      let handled = 0;
      app.get('/q', s.enforcement.capQuota('max_result_rows', () => -1), () => {
        handled += 1;
      });
      const { body } = await request(app).get('/q').expect(400);
      expect(body).toMatchObject({ error: 'invalid_request' });
      expect(handled).toBe(0);
    });

    it('caps an unstated amount at the limit: X-License-Capped and req.licenseCap()', async () => {
      const s = setUp();
      const response = await request(capped(s)).get('/q').expect(200, { ok: true, tier: 'community', rows: 10_000 });
      expect(response.headers['x-license-capped']).toBe('max_result_rows=10000');
      expect(s.telemetry.denials).toEqual([]); // capping is not a refusal
    });

    it('lets an explicit amount within the limit through uncapped, and answers 402 above it', async () => {
      const s = setUp();
      const within = await request(capped(s)).get('/q?rows=500').expect(200, { ok: true, tier: 'community', rows: 500 });
      expect(within.headers['x-license-capped']).toBeUndefined();
      const { body } = await request(capped(s)).get('/q?rows=10001').expect(402);
      expect(body).toMatchObject({ error: 'quota_exceeded', quota: 'max_result_rows', limit: 10_000, requested: 10_001 });
      expect(body).not.toHaveProperty('current');
    });

    it('caps nothing on an unlimited quota: no header, licenseCap is null', async () => {
      const s = setUp();
      s.install('enterprise');
      const response = await request(capped(s)).get('/q').expect(200);
      expect(response.body.rows).toBe('none'); // null
      expect(response.headers['x-license-capped']).toBeUndefined();
    });

    it('fails closed on a cut query string (a dropped rows= is not "unstated") and on a bad amount', async () => {
      const s = setUp();
      await request(capped(s)).get(`/q?${'&'.repeat(1000)}rows=50000`).expect(400);
      const bad = express();
      bad.get('/q', s.enforcement.capQuota('max_result_rows', () => Number.NaN), ok);
      await request(bad).get('/q').expect(400);
      expect(() => s.enforcement.capQuota('max_concurrent_queries' as never, rowsParam)).toThrow(TypeError);
    });

    it('lists every capped quota in the header when a route caps two', async () => {
      const s = setUp();
      const app = express();
      app.get('/q', s.enforcement.capQuota('max_result_rows', () => undefined), s.enforcement.capQuota('max_joins', () => null), ok);
      expect((await request(app).get('/q').expect(200)).headers['x-license-capped']).toBe('max_result_rows=10000, max_joins=2');
    });
  });

  describe('limitConcurrency on the usage of max_concurrent_queries', () => {
    it('shows running queries as usage, and a downgrade under them keeps them running but admits no more', async () => {
      const s = setUp();
      s.install('pro');
      const hold = holdUntilReleased();
      const app = express();
      app.get('/q', s.enforcement.limitConcurrency(), hold.handler, ok);
      const url = await listen(app);
      const running = Array.from({ length: 6 }, () => fetch(`${url}/q`));
      await until(() => hold.held() === 6);
      expect(s.usage.report().max_concurrent_queries).toEqual({ current: 6, limit: 50, overage: 0 });

      s.install('community'); // 4 allowed
      expect(s.usage.report().max_concurrent_queries).toEqual({ current: 6, limit: 4, overage: 2 });
      expect((await fetch(`${url}/q`)).status).toBe(429);
      hold.releaseAll();
      expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      await until(() => s.usage.counter('max_concurrent_queries').current === 0);
    });
  });

  describe('shadow mode', () => {
    it('lets every would-be 402 through, marks it, counts it with mode="shadow" and logs it at most once a minute per gate', async () => {
      const s = setUp('shadow');
      const app = express();
      app.get('/q', s.enforcement.requireQuota('max_result_rows', (req) => Number(req.query.rows)), s.enforcement.requireQuota('max_joins', (req) => Number(req.query.joins)), ok);
      app.get('/f', s.enforcement.requireFeature('federation'), ok);
      s.install('pro', 365 * DAY, { features: ['repl'] });

      const both = await request(app).get('/q?rows=2000000&joins=9').expect(200);
      expect(both.headers['x-license-shadow-denied']).toBe('max_result_rows, max_joins');
      expect(fieldLines(both, 'x-license-shadow-denied')).toBe(1); // one line holding the list, not one line per gate
      const within = await request(app).get('/q?rows=1&joins=1').expect(200);
      expect(within.headers['x-license-shadow-denied']).toBeUndefined();
      for (let i = 0; i < 5; i += 1) await request(app).get('/q?rows=2000000&joins=0').expect(200);
      expect((await request(app).get('/f').expect(200)).headers['x-license-shadow-denied']).toBe('federation');

      expect(s.telemetry.denials.filter((d) => d.name === 'max_result_rows')).toHaveLength(6);
      expect(s.telemetry.denials.every((d) => d.mode === 'shadow')).toBe(true);
      expect(s.logger.at('warn')).toEqual([
        'Shadow enforcement let through what it would refuse: max_result_rows is limited to 1000000 on the Pro tier; 2000000 requested',
        'Shadow enforcement let through what it would refuse: max_joins is limited to 5 on the Pro tier; 9 requested',
        'Shadow enforcement let through what it would refuse: federation is not available on the Pro tier',
      ]);
      s.clock.advance(60_000);
      await request(app).get('/q?rows=2000000&joins=0').expect(200);
      expect(s.logger.at('warn')).toHaveLength(4);
      expect(s.logger.entries.at(-1)?.fields).toMatchObject({ name: 'max_result_rows', refusal: 402, unlogged_since_last: 5 });
    });

    it('names every would-be refusal in one header line, each name once, as the contract reads it; capped quotas likewise', async () => {
      const s = setUp('shadow');
      const app = express();
      const rows = s.enforcement.requireQuota('max_result_rows', (req) => Number(req.query.rows));
      app.get('/q', rows, s.enforcement.requireQuota('max_joins', (req) => Number(req.query.joins)), rows, ok);
      app.get('/c', s.enforcement.capQuota('max_result_rows', () => undefined), s.enforcement.capQuota('max_joins', () => undefined), ok);
      s.install('pro');
      const url = await listen(app);
      // A client that keeps one value of a repeated header (the last, as Java's HttpURLConnection
      // does) must still read every name: one field line, comma-separated.
      const rawLines = (path: string) =>
        new Promise<string[]>((resolve, reject) => {
          httpGet(`${url}${path}`, (res) => {
            res.resume();
            const lines: string[] = [];
            for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]!.toLowerCase()}: ${res.rawHeaders[i + 1]}`);
            resolve(lines.filter((line) => line.startsWith('x-license-')));
          }).on('error', reject);
        });

      expect(await rawLines('/q?rows=2000000&joins=9')).toEqual(['x-license-shadow-denied: max_result_rows, max_joins']);
      expect(await rawLines('/c')).toEqual(['x-license-capped: max_result_rows=1000000, max_joins=5']);
    });

    it('lets a would-be 429 run and counts it as usage; an explicit amount over a cap passes, marked', async () => {
      const s = setUp('shadow');
      const hold = holdUntilReleased();
      const app = express();
      app.get('/q', s.enforcement.capQuota('max_result_rows', rowsParam), s.enforcement.limitConcurrency(), hold.handler, ok);
      const url = await listen(app);
      const running = Array.from({ length: 5 }, (_, i) => fetch(`${url}/q?rows=${i === 4 ? 20_000 : 1}`));
      await until(() => hold.held() === 5);
      expect(s.usage.report().max_concurrent_queries).toEqual({ current: 5, limit: 4, overage: 1 });
      hold.releaseAll();
      const responses = await Promise.all(running);
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      const marks = responses.map((r) => r.headers.get('x-license-shadow-denied') ?? '');
      expect(marks.filter((mark) => mark.includes('max_concurrent_queries'))).toHaveLength(1); // the fifth to arrive
      expect(marks[4]).toMatch(/^max_result_rows(, max_concurrent_queries)?$/); // rows=20000 over the limit of 10000
      expect(s.telemetry.denials).toEqual(
        expect.arrayContaining([
          { kind: 'quota', name: 'max_concurrent_queries', mode: 'shadow' },
          { kind: 'quota', name: 'max_result_rows', mode: 'shadow' },
        ]),
      );
      await until(() => s.usage.counter('max_concurrent_queries').current === 0);
    });
  });
});
