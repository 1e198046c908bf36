import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createLicenseAgent } from '../../src/app/create-license-agent.js';
import { createHostApp } from '../../src/app/host-server.js';
import type { LicenseAgent } from '../../src/app/license-agent.js';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { issueToken } from '../support/fake-license-backend.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { aLicenseToken } from '../support/signing-keys.js';

const API_KEY = 'sk-operator-logs-0123456789abcdef';

/** Issue 11 §1: the lines an operator reads. */
describe('logs an operator can act on', () => {
  let env: AgentEnvironment;
  let logger: RecordingLogger;
  let agent: LicenseAgent | undefined;
  beforeEach(async () => {
    env = await AgentEnvironment.create();
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    await agent?.stop();
    await env.dispose();
  });

  const host = async (overrides: Record<string, string> = {}) => {
    agent = await createLicenseAgent(env.config({ SOFTCLIENT4ES_API_KEY: API_KEY, ...overrides }), { logger });
    await agent.start();
    return createHostApp(agent, logger);
  };

  it('one INFO line at start: version, backend host, cache dir, refresh, grace, trusted key ids, proxy — no secret', async () => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    await host();
    const [summary] = logger.entries.filter((entry) => entry.level === 'info' && entry.message.includes('license agent') && entry.message.endsWith('starting'));
    expect(summary?.fields).toEqual({
      version: expect.any(String),
      backend_host: new URL(env.backend.url).host,
      proxy: null,
      cache_dir: env.cacheDir,
      refresh: 'every 86400 s',
      grace_period_days: 14,
      trusted_key_ids: ['env-key-1'],
      api_key_configured: true,
      static_license_configured: false,
      enforcement_mode: 'enforce',
    });
    expect(JSON.stringify(logger.entries)).not.toContain(API_KEY);
  });

  it('gives every request an id (the client\'s when well-formed), echoes it, and writes an access line without the query', async () => {
    const app = await host({ SOFTCLIENT4ES_API_KEY: '' });
    const chosen = await request(app).get('/demo/query?rows=1&secret=hunter2').set('X-Request-Id', 'req-42.a').expect(200);
    const generated = await request(app).get('/healthz').set('X-Request-Id', 'not an id; it has spaces').expect(200);
    await request(app).get('/admin/license').set('X-Request-Id', 'mounted-1').expect(401);

    expect(chosen.headers['x-request-id']).toBe('req-42.a');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const access = logger.entries.filter((entry) => entry.message === 'request').map((entry) => entry.fields);
    expect(access).toContainEqual(expect.objectContaining({ request_id: 'req-42.a', method: 'GET', path: '/demo/query', status: 200 }));
    expect(access).toContainEqual(expect.objectContaining({ request_id: generated.headers['x-request-id'], path: '/healthz', status: 200 }));
    expect(access).toContainEqual(expect.objectContaining({ request_id: 'mounted-1', path: '/admin/license', status: 401 })); // the mount prefix kept
    expect(JSON.stringify(access)).not.toContain('hunter2');
  });

  it('writes audit lines for a forced refresh and for admin calls refused with 401, never with the token', async () => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    const app = await host({ SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s' });
    await request(app).post('/admin/license/refresh').set('Authorization', `Bearer ${ADMIN_TOKEN}`).set('X-Request-Id', 'audit-1').expect(200);
    await request(app).get('/admin/license').set('Authorization', 'Bearer wrong-token-value').set('X-Request-Id', 'audit-2').expect(401);
    await request(app).get('/admin/license').expect(401);

    const audit = logger.entries.filter((entry) => entry.fields?.audit !== undefined);
    expect(audit.map((entry) => [entry.level, entry.message, entry.fields?.request_id])).toEqual([
      ['info', 'Forced license refresh requested', 'audit-1'],
      ['info', 'Forced license refresh answered', 'audit-1'],
      ['warn', 'Admin API call refused: wrong bearer token', 'audit-2'],
      ['warn', 'Admin API call refused: no bearer token', expect.any(String)],
    ]);
    expect(audit[1]?.fields).toMatchObject({ result: 'refreshed' });
    expect(JSON.stringify(logger.entries)).not.toMatch(new RegExp(`${ADMIN_TOKEN}|wrong-token-value`));
  });
});
