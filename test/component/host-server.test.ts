import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createLicenseAgent } from '../../src/app/create-license-agent.js';
import { createHostApp } from '../../src/app/host-server.js';
import { OpenApiContract } from '../contract/openapi-contract.js';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { issueToken, respondJson } from '../support/fake-license-backend.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { aLicenseToken } from '../support/signing-keys.js';

const API_KEY = 'sk-component-test-key';


// Every response these tests provoke must also honour openapi.yaml.
let contract: OpenApiContract;
beforeAll(async () => {
  contract = await OpenApiContract.load();
});
afterEach(() => {
  expect(contract.takeViolations()).toEqual([]);
});

describe('example host', () => {
  let env: AgentEnvironment;
  let logger: RecordingLogger;
  beforeEach(async () => {
    env = await AgentEnvironment.create();
    logger = new RecordingLogger();
  });
  afterEach(async () => env.dispose());

  const startHost = async (overrides: Record<string, string> = {}) => {
    const agent = await createLicenseAgent(env.config(overrides), { logger });
    return { agent, app: contract.guard(createHostApp(agent, logger)) };
  };
  const admin = (path: string) => ({ path, auth: `Bearer ${ADMIN_TOKEN}` });

  it('is live at once and ready after the initial resolution', async () => {
    const { agent, app } = await startHost();
    await request(app).get('/healthz').expect(200, { status: 'ok' });
    await request(app).get('/readyz').expect(503, { status: 'starting', message: 'the initial license resolution has not finished' });
    await agent.start();
    await request(app).get('/readyz').expect(200, { status: 'ready' });
    agent.beginShutdown();
    await request(app).get('/readyz').expect(503, { status: 'shutting_down', message: 'the server is shutting down' });
  });

  it('resolves a Pro license with the API key and reports it on GET /admin/license', async () => {
    const jwt = await aLicenseToken(env.key, { tier: 'pro', jti: 'jti-42', quotas: { max_joins: 9 } });
    env.backend.handle(issueToken(jwt, 'Welcome aboard'));
    const { agent, app } = await startHost({ SOFTCLIENT4ES_API_KEY: API_KEY });
    await agent.start();

    const { path, auth } = admin('/admin/license');
    const { body } = await request(app).get(path).set('Authorization', auth).expect(200).expect('Cache-Control', 'no-store');
    expect(body).toMatchObject({
      tier: 'Pro',
      source: 'api_key',
      degraded: false,
      trial: false,
      license_id: 'lic-test-0001',
      org_name: 'Acme Corp',
      platform: 'PRODUCTION',
      quotas: { max_joins: 9, max_result_rows: 1_000_000 },
      grace: { status: 'none', days_expired: null, days_remaining: null },
      instance_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      resolution: [
        { source: 'static', outcome: 'skipped', code: null, message: 'no static license configured' },
        { source: 'api_key', outcome: 'used', code: null, message: null },
      ],
      token: { kid: 'env-key-1', jti: 'jti-42', fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) },
    });
    expect(body.days_remaining).toBeGreaterThanOrEqual(364);
    expect(JSON.stringify(body)).not.toContain(jwt);
    expect(JSON.stringify(body)).not.toContain(API_KEY);
    expect(logger.at('info')).toEqual(expect.arrayContaining(['Welcome aboard', 'License upgraded from Community to Pro']));

    const [sent] = env.backend.requests;
    expect(sent?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(JSON.parse(sent?.body ?? '{}')).toEqual({
      instance_id: body.instance_id,
      version: expect.any(String),
      usage: { quota_denials: {}, feature_denials: {}, peak_usage: {}, uptime_seconds: expect.any(Number), platform: process.platform },
    });
  });

  it('falls back to the cache written by an earlier run when the backend rejects the key', async () => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'enterprise' })));
    const first = await startHost({ SOFTCLIENT4ES_API_KEY: API_KEY });
    await first.agent.start();
    await first.agent.stop(); // lets the background cache write finish

    env.backend.handle(respondJson(401, { error: 'api_key_revoked', message: 'This API key was revoked on 2026-11-01' }));
    const second = await startHost({ SOFTCLIENT4ES_API_KEY: API_KEY });
    await second.agent.start();

    expect(second.agent.current().license).toMatchObject({ tier: 'enterprise', source: 'cache' });
    expect(logger.at('error')).toContain('License backend rejected the API key (HTTP 401): This API key was revoked on 2026-11-01');
    expect(logger.at('warn')).toContain('Using cached license');
  });

  it('protects /admin with the bearer token', async () => {
    const { app } = await startHost();
    for (const auth of [undefined, 'Bearer wrong-token', `Basic ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN}x`]) {
      const call = request(app).get('/admin/license');
      const response = await (auth === undefined ? call : call.set('Authorization', auth));
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="softclient4es-admin"');
      expect(response.body).toEqual({ error: 'unauthorized', message: 'a valid admin bearer token is required' });
    }
  });

  it('serves its OpenAPI document to the admin', async () => {
    const { app } = await startHost();
    const { path, auth } = admin('/admin/openapi.yaml');
    const response = await request(app).get(path).set('Authorization', auth).expect(200);
    expect(response.text).toBe(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8'));
  });

  it('answers unknown routes with JSON 404', async () => {
    const { app } = await startHost();
    await request(app).get('/nope').expect(404, { error: 'not_found', message: 'no route for GET /nope' });
  });

  it('generates, stores and reuses an admin token when none is configured', async () => {
    const { app } = await startHost({ SOFTCLIENT4ES_ADMIN_TOKEN: '' });
    const token = readFileSync(join(env.cacheDir, 'admin-token'), 'utf8').trim();
    await request(app).get('/admin/license').set('Authorization', `Bearer ${token}`).expect(200);
    expect(logger.at('info')).toContain(`Admin API token is in ${join(env.cacheDir, 'admin-token')}`);
    expect(logger.messages().join('\n')).not.toContain(token);

    const again = await startHost({ SOFTCLIENT4ES_ADMIN_TOKEN: '' });
    await request(again.app).get('/admin/license').set('Authorization', `Bearer ${token}`).expect(200);
  });
});
