import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createLicenseAgent } from '../../src/app/create-license-agent.js';
import { createHostApp } from '../../src/app/host-server.js';
import type { LicenseAgent } from '../../src/app/license-agent.js';
import { OpenApiContract } from '../contract/openapi-contract.js';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { issueToken, respondJson } from '../support/fake-license-backend.js';
import { DAY, FixedClock } from '../support/fixed-clock.js';
import { ManualTimers, manualSystem } from '../support/manual-timers.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { aLicenseToken } from '../support/signing-keys.js';

const API_KEY = 'sk-field-hardening-0123456789abcdef';
const AUTH = `Bearer ${ADMIN_TOKEN}`;

let contract: OpenApiContract;
beforeAll(async () => {
  contract = await OpenApiContract.load();
});

/** Issue 9 through the example host: what an operator and a client see. */
describe('example host under field conditions', () => {
  let env: AgentEnvironment;
  let clock: FixedClock;
  let timers: ManualTimers;
  let logger: RecordingLogger;
  let agent: LicenseAgent | undefined;

  beforeEach(async () => {
    env = await AgentEnvironment.create();
    clock = new FixedClock(new Date());
    timers = new ManualTimers(clock);
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await env.dispose();
    expect(contract.takeViolations()).toEqual([]);
  });

  const startHost = async (overrides: Record<string, string> = {}) => {
    const config = env.config({ SOFTCLIENT4ES_API_KEY: API_KEY, ...overrides });
    agent = await createLicenseAgent(config, { logger, modules: { system: manualSystem(clock, timers) } });
    await agent.start();
    return contract.guard(createHostApp(agent, logger));
  };
  const status = async (app: Parameters<typeof request>[0]) => (await request(app).get('/admin/license').set('Authorization', AUTH).expect(200)).body;
  const proToken = (days: number) =>
    aLicenseToken(env.key, { tier: 'pro', expiresAt: Math.floor(clock.now().getTime() / 1000) + days * 86_400 }, clock.now().getTime());

  it('claims text from a license (org_name, sub, jti) reaches GET /admin/license through the text gate', async () => {
    const hostile = 'Acme\u202e\u0007\u2028 eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl \u001b[31mred';
    const jwt = await aLicenseToken(
      env.key,
      { tier: 'pro', orgName: hostile, subject: `lic\u001b]0;pwned\u0007-1`, jti: `id\u2066-1`, platform: 'PRODUCTION' },
      clock.now().getTime(),
    );
    const app = await startHost({ SOFTCLIENT4ES_LICENSE_KEY: jwt });

    const body = await status(app);

    expect(body.tier).toBe('Pro');
    for (const text of [body.org_name, body.license_id, body.token.jti]) {
      expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]*\./);
    }
    expect(body.org_name).toBe('Acme  [REDACTED]  [31mred');
  });

  it('after a wall-clock jump past the end of grace, the next request, the status and the metrics agree: Community', async () => {
    env.backend.handle(issueToken(await proToken(1)));
    const app = await startHost();
    await request(app).get('/demo/query?rows=500000').expect(200);
    env.backend.handle(respondJson(503, { error: 'down' }));

    clock.advance(16 * DAY); // suspend/resume: no timer has had a chance to fire

    await request(app).get('/demo/query?rows=500000').expect(402);
    expect(await status(app)).toMatchObject({ tier: 'Community', degraded: true });
    const metrics = (await request(app).get('/metrics').expect(200)).text;
    expect(metrics).toContain('softclient4es_license_tier{tier="community"} 1');
    expect(metrics).toContain('softclient4es_license_degraded 1');
    expect(logger.at('warn').filter((line) => line === 'License expired — running in Community mode')).toHaveLength(1);
  });

  it('setting the clock back and restarting does not bring back a lapsed cached license: the clock is suspect', async () => {
    env.backend.handle(issueToken(await proToken(2)));
    await startHost();
    clock.advance(17 * DAY); // two days of validity and 14 of grace are over
    await agent?.stop(); // the high-water mark is written at shutdown
    env.backend.handle(respondJson(503, { error: 'down' }));
    clock.advance(-10 * DAY); // by this clock the cached license would be in its grace period

    const app = await startHost();

    await request(app).get('/demo/query?rows=500000').expect(402);
    expect(await status(app)).toMatchObject({ tier: 'Community', clock: { suspect: true } });
    expect((await request(app).get('/metrics').expect(200)).text).toContain('softclient4es_license_clock_suspect 1');
    expect(logger.at('warn')).toContainEqual(expect.stringMatching(/^System clock runs behind the time already seen/));
  });

  it('never shows the API key the backend quotes in a 401, in the status or the 502 body', async () => {
    env.backend.handle(respondJson(401, { error: 'api_key_revoked', message: `The API key ${API_KEY} was revoked` }));
    const app = await startHost({ SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s' });

    const refresh = await request(app).post('/admin/license/refresh').set('Authorization', AUTH).expect(502);
    const body = await status(app);

    for (const text of [JSON.stringify(refresh.body), JSON.stringify(body), ...logger.messages()]) {
      expect(text).not.toContain(API_KEY);
      expect(text).not.toContain(API_KEY.slice(3, 11));
    }
    expect(refresh.body.message).toBe('The API key [REDACTED] was revoked');
    expect(body.refresh.last_error).toBe('BACKEND.REJECTED: The API key [REDACTED] was revoked');
  });

  it('answers 400, never a silent 0, when filler parameters push a measured one out of the parser', async () => {
    const app = await startHost({ SOFTCLIENT4ES_API_KEY: '' });
    const filler = Array.from({ length: 1000 }, (_, i) => `f${i}=1`).join('&');

    const response = await request(app).get(`/demo/query?${filler}&rows=20000`).expect(400);

    expect(response.body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/more than 1000 parameters/) });
    await request(app).get(`/demo/query?${filler.split('&').slice(0, 998).join('&')}&rows=20000`).expect(402);
  });
});
