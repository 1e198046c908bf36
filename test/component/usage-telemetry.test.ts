import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import express, { type Express } from 'express';
import request from 'supertest';
import { createLicenseAgent } from '../../src/app/create-license-agent.js';
import { createHostApp } from '../../src/app/host-server.js';
import type { LicenseAgent } from '../../src/app/license-agent.js';
import { QuotaExceededError } from '../../src/domain/model/errors.js';
import { OpenApiContract } from '../contract/openapi-contract.js';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { issueToken, respondJson } from '../support/fake-license-backend.js';
import { FixedClock } from '../support/fixed-clock.js';
import { ManualTimers, manualSystem } from '../support/manual-timers.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { aLicenseToken } from '../support/signing-keys.js';

const API_KEY = 'sk-usage-telemetry-component-key';
const AUTH = `Bearer ${ADMIN_TOKEN}`;
/** Above the Community `max_result_rows` (10 000). */
const OVER_COMMUNITY_ROWS = '/demo/query?rows=20000';

interface SentUsage {
  readonly quota_denials: Record<string, number>;
  readonly feature_denials: Record<string, number>;
  readonly peak_usage: Record<string, number>;
  readonly uptime_seconds: number;
  readonly platform: string;
}

let contract: OpenApiContract;
beforeAll(async () => {
  contract = await OpenApiContract.load();
});
afterEach(() => {
  expect(contract.takeViolations()).toEqual([]);
});

describe('usage counters sent with the token request (DESIGN §12)', () => {
  let env: AgentEnvironment;
  let agents: LicenseAgent[];
  let clock: FixedClock;

  beforeEach(async () => {
    env = await AgentEnvironment.create();
    agents = [];
    clock = new FixedClock(new Date());
  });
  afterEach(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await env.dispose();
  });

  const startHost = async (overrides: Record<string, string> = {}) => {
    const config = env.config({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s', ...overrides });
    const agent = await createLicenseAgent(config, { logger: new RecordingLogger(), modules: { system: manualSystem(clock, new ManualTimers(clock)) } });
    agents.push(agent);
    await agent.start();
    return contract.guard(createHostApp(agent, new RecordingLogger()));
  };
  const agentApp = (agent: LicenseAgent) => express().use('/admin', agent.adminRouter());
  const forceRefresh = (app: Express) => request(app).post('/admin/license/refresh').set('Authorization', AUTH);
  const proToken = () => aLicenseToken(env.key, { tier: 'pro' }, clock.now().getTime());
  const sentUsage = () => env.backend.tokenRequestBodies().map((body) => (body as { usage?: SentUsage }).usage);

  it('reports a denial with the next refresh, and after that send succeeded, no more', async () => {
    env.backend.handle(respondJson(503, { error: 'maintenance' }));
    const app = await startHost();
    await request(app).get(OVER_COMMUNITY_ROWS).expect(402);
    await request(app).get('/demo/query?rows=10').expect(200);

    env.backend.handle(issueToken(await proToken()));
    await forceRefresh(app).expect(200);
    await forceRefresh(app).expect(200);

    expect(sentUsage()).toEqual([
      { quota_denials: {}, feature_denials: {}, peak_usage: {}, uptime_seconds: 0, platform: process.platform },
      { quota_denials: { max_result_rows: 1 }, feature_denials: {}, peak_usage: { max_concurrent_queries: 1 }, uptime_seconds: 0, platform: process.platform },
      { quota_denials: {}, feature_denials: {}, peak_usage: { max_concurrent_queries: 0 }, uptime_seconds: 0, platform: process.platform },
    ]);
  });

  it('reports the peak of what the host holds through agent.usage(quota), and its refusals', async () => {
    env.backend.handle(respondJson(503, { error: 'maintenance' }));
    const app = await startHost();
    const agent = agents[0]!;
    const views = agent.usage('max_materialized_views'); // Community: 1
    const release = views.acquire();
    expect(() => views.acquire()).toThrow(QuotaExceededError);
    release();

    env.backend.handle(issueToken(await proToken()));
    await forceRefresh(app).expect(200);

    expect(sentUsage()[1]).toMatchObject({ quota_denials: { max_materialized_views: 1 }, peak_usage: { max_materialized_views: 1 } });
  });

  it('keeps the counts through failed refreshes (a 401 included) and sends them once one succeeds', async () => {
    env.backend.handle(respondJson(503, { error: 'maintenance' }));
    const app = await startHost();
    await request(app).get(OVER_COMMUNITY_ROWS).expect(402);
    await forceRefresh(app).expect(502);
    env.backend.handle(respondJson(401, { error: 'api_key_revoked', message: 'revoked' }));
    await request(app).get('/demo/query?joins=3').expect(402);
    await forceRefresh(app).expect(502);

    env.backend.handle(issueToken(await proToken()));
    await forceRefresh(app).expect(200);
    await forceRefresh(app).expect(200);

    expect(sentUsage().map((usage) => usage?.quota_denials)).toEqual([
      {},
      { max_result_rows: 1 },
      { max_result_rows: 1, max_joins: 1 },
      { max_result_rows: 1, max_joins: 1 },
      {},
    ]);
  });

  it.each(['enforce', 'shadow'])(
    '%s mode: a request over a usage quota (requireCapacity, then acquire in the handler, as the README shows) counts as one refusal',
    async (mode) => {
      env.backend.handle(respondJson(503, { error: 'maintenance' }));
      await startHost({ SOFTCLIENT4ES_ENFORCEMENT_MODE: mode });
      const agent = agents[0]!;
      const clusters = agent.usage('max_clusters');
      clusters.set(1); // Community: 1, full
      const app = express();
      app.post('/clusters', agent.requireCapacity('max_clusters', () => 1), (_req, res) => {
        try {
          clusters.acquire();
          res.status(201).end();
        } catch {
          res.status(402).end();
        }
      });
      app.get('/metrics', agent.metricsHandler());

      await request(app).post('/clusters').expect(mode === 'shadow' ? 201 : 402);

      const metrics = (await request(app).get('/metrics').expect(200)).text;
      expect(metrics).toContain(`softclient4es_license_enforcement_denials_total{kind="quota",name="max_clusters",mode="${mode}"} 1\n`);
      env.backend.handle(issueToken(await proToken()));
      await request(agentApp(agent)).post('/admin/license/refresh').set('Authorization', AUTH).expect(200);
      expect(sentUsage().at(-1)?.quota_denials).toEqual({ max_clusters: 1 });
    },
  );

  it('sends no usage at all with SOFTCLIENT4ES_TELEMETRY_ENABLED=false', async () => {
    env.backend.handle(respondJson(503, { error: 'maintenance' }));
    const app = await startHost({ SOFTCLIENT4ES_TELEMETRY_ENABLED: 'false' });
    await request(app).get(OVER_COMMUNITY_ROWS).expect(402);
    env.backend.handle(issueToken(await proToken()));
    await forceRefresh(app).expect(200);

    const bodies = env.backend.tokenRequestBodies();
    expect(bodies).toHaveLength(2);
    for (const body of bodies) expect(Object.keys(body as object).sort()).toEqual(['instance_id', 'version']);
  });
});
