import { chmodSync, mkdirSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request, { type Response } from 'supertest';
import { createLicenseAgent } from '../../src/app/create-license-agent.js';
import { createHostApp } from '../../src/app/host-server.js';
import type { LicenseAgent } from '../../src/app/license-agent.js';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { issueToken, respondJson } from '../support/fake-license-backend.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { aLicenseToken, generateSigningKey } from '../support/signing-keys.js';
import { OpenApiContract } from './openapi-contract.js';

const API_KEY = 'sk-contract-test-key';
const DAY_SECONDS = 86_400;

/**
 * Every response below is provoked through the real example host and checked against
 * openapi.yaml; the last test proves that every documented (route, status) was provoked.
 */
describe('openapi.yaml', () => {
  let contract: OpenApiContract;
  let env: AgentEnvironment;
  beforeAll(async () => {
    contract = await OpenApiContract.load();
  });
  beforeEach(async () => {
    env = await AgentEnvironment.create();
  });
  const agents: LicenseAgent[] = [];
  // Stop every agent first: its background writes (clock mark, cache) must be done before the
  // directory is removed, or the removal races them (ENOTEMPTY).
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
    await env.dispose();
  });

  const host = async (overrides: Record<string, string> = {}): Promise<{ agent: LicenseAgent; app: Express }> => {
    const logger = new RecordingLogger();
    const agent = await createLicenseAgent(env.config(overrides), { logger });
    agents.push(agent);
    return { agent, app: createHostApp(agent, logger) };
  };
  const startedHost = async (overrides: Record<string, string> = {}) => {
    const started = await host(overrides);
    await started.agent.start();
    return started;
  };
  /** `PUT /admin/license` with a JSON body (or raw text), checked against the contract. */
  const put = async (app: Express, body: unknown, auth: string | null = ADMIN_TOKEN): Promise<Response> => {
    const pending = request(app).put('/admin/license');
    const authorized = auth === null ? pending : pending.set('Authorization', `Bearer ${auth}`);
    const response = await (typeof body === 'string' ? authorized.type('application/json').send(body) : authorized.send(body as object));
    contract.check('put', '/admin/license', response);
    return response;
  };
  /** Sends the request, checks the answer against the contract and hands it back for more checks. */
  const call = async (app: Express, method: 'get' | 'post' | 'delete', url: string, auth: string | null = ADMIN_TOKEN, body?: string): Promise<Response> => {
    const pending = request(app)[method](url);
    const authorized = auth === null ? pending : pending.set('Authorization', `Bearer ${auth}`);
    const response = await (body === undefined ? authorized : authorized.type('text/plain').send(body));
    contract.check(method, url.split('?')[0] ?? url, response);
    return response;
  };

  it('is a valid OpenAPI 3.1 document with a bearer security scheme', () => {
    expect(contract.document.openapi).toMatch(/^3\.1\./);
    expect(contract.document.components?.securitySchemes?.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('rejects a response that breaks it (the oracle can fail)', () => {
    const json = { 'content-type': 'application/json; charset=utf-8' };
    expect(() => contract.check('get', '/healthz', { status: 200, headers: json, text: '{"status":"ok","extra":1}' })).toThrow(
      /must NOT have additional properties/,
    );
    expect(() => contract.check('get', '/healthz', { status: 500, headers: json, text: '{}' })).toThrow(/does not document/);
    expect(() => contract.check('post', '/admin/license/refresh', { status: 429, headers: json, text: '{"error":"x","message":"y"}' })).toThrow(
      /Retry-After is required/,
    );
  });

  it('health: liveness at once, readiness 503 then 200', async () => {
    const { agent, app } = await host();
    await call(app, 'get', '/healthz', null);
    expect((await call(app, 'get', '/readyz', null)).status).toBe(503);
    await agent.start();
    expect((await call(app, 'get', '/readyz', null)).status).toBe(200);
  });

  it('metrics: Prometheus text', async () => {
    const { app } = await startedHost();
    expect((await call(app, 'get', '/metrics', null)).text).toContain('softclient4es_license_tier{tier="community"} 1');
  });

  it('admin: 401 without or with a wrong token, on every admin route', async () => {
    const { app } = await startedHost({ SOFTCLIENT4ES_API_KEY: API_KEY });
    for (const auth of [null, 'not-the-token']) {
      expect((await call(app, 'get', '/admin/license', auth)).status).toBe(401);
      expect((await call(app, 'get', '/admin/openapi.yaml', auth)).status).toBe(401);
      expect((await call(app, 'post', '/admin/license/refresh', auth)).status).toBe(401);
    }
    expect(env.backend.requests).toHaveLength(1); // the start-up resolution only
  });

  it('admin: 405 with Allow for a method a path does not serve, 404 for an unknown path; 401 before either without the token', async () => {
    const { app } = await startedHost();
    expect((await call(app, 'post', '/admin/license')).headers.allow).toBe('GET, HEAD, PUT, DELETE');
    expect((await call(app, 'post', '/admin/openapi.yaml')).headers.allow).toBe('GET, HEAD');
    expect((await call(app, 'get', '/admin/license/refresh')).headers.allow).toBe('POST');
    expect((await call(app, 'get', '/admin/no/such/route')).body).toMatchObject({ error: 'not_found' });
    expect((await call(app, 'post', '/admin/nothing')).status).toBe(404);
    const guesses = [['post', '/admin/license'], ['post', '/admin/openapi.yaml'], ['get', '/admin/license/refresh'], ['get', '/admin/x'], ['post', '/admin/x']] as const;
    for (const [method, url] of guesses) expect((await call(app, method, url, null)).status).toBe(401);
  });

  it('admin: 413 for a refresh body over 1 KiB (after the token check); one of 1 KiB is accepted', async () => {
    const { app } = await startedHost();
    const tooLarge = await call(app, 'post', '/admin/license/refresh', ADMIN_TOKEN, 'x'.repeat(1025));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ error: 'payload_too_large' });
    expect((await call(app, 'post', '/admin/license/refresh', null, 'x'.repeat(1025))).status).toBe(401);
    expect((await call(app, 'post', '/admin/license/refresh', ADMIN_TOKEN, 'x'.repeat(1024))).status).toBe(409);
  });

  it('admin: the document itself', async () => {
    const { app } = await startedHost();
    expect((await call(app, 'get', '/admin/openapi.yaml')).text).toContain('openapi: 3.1.0');
  });

  it('admin: license status for Community, for an API-key license, and after a failed fall-through', async () => {
    const community = await startedHost();
    expect((await call(community.app, 'get', '/admin/license')).body).toMatchObject({ tier: 'Community', token: null });

    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'enterprise', jti: 'jti-1' })));
    const pro = await startedHost({ SOFTCLIENT4ES_API_KEY: API_KEY });
    expect((await call(pro.app, 'get', '/admin/license')).body).toMatchObject({ tier: 'Enterprise', source: 'api_key' });
    await pro.agent.flush(); // the cache is written behind the install

    env.backend.handle(respondJson(401, { error: 'invalid_api_key', message: 'unknown key' }));
    const fallen = await startedHost({ SOFTCLIENT4ES_API_KEY: API_KEY });
    const { body } = await call(fallen.app, 'get', '/admin/license');
    expect(body.resolution).toEqual(
      expect.arrayContaining([expect.objectContaining({ source: 'api_key', outcome: 'failed', code: 'BACKEND.REJECTED' })]),
    );
    expect(body.source).toBe('cache');
  });

  it('admin: refresh answers 200, 429 with Retry-After, then 502 when the backend fails', async () => {
    env.backend.handle(respondJson(503, { error: 'maintenance' }));
    const { app, agent } = await startedHost({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '1h' });

    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    expect((await call(app, 'post', '/admin/license/refresh')).body).toMatchObject({ status: 'refreshed', previous_tier: 'Community', new_tier: 'Pro' });
    await agent.flush(); // the cache is written behind the install
    const tooSoon = await call(app, 'post', '/admin/license/refresh');
    expect(tooSoon.status).toBe(429);

    env.backend.handle(respondJson(500, { error: 'boom' }));
    const other = await startedHost({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s' });
    const failed = await call(other.app, 'post', '/admin/license/refresh');
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ status: 'failed', new_tier: 'Pro' }); // the cached Pro license stays in force
  });

  it('admin: refresh answers 409 without an API key', async () => {
    const { app } = await startedHost();
    expect((await call(app, 'post', '/admin/license/refresh')).status).toBe(409);
  });

  it('demo: 200 when allowed, 400 for a bad count, 402 over a quota', async () => {
    const { app } = await startedHost();
    expect((await call(app, 'get', '/demo/query?rows=10&joins=1&clusters=1', null)).body).toEqual({ ok: true, tier: 'Community' });
    expect((await call(app, 'get', '/demo/query?rows=ten', null)).status).toBe(400);
    expect((await call(app, 'get', '/demo/query?joins=99', null)).body).toMatchObject({ error: 'quota_exceeded', quota: 'max_joins' });
  });

  it('demo: without rows the amount is capped at max_result_rows (X-License-Capped); an explicit amount over it is 402', async () => {
    const { app } = await startedHost();
    const capped = await call(app, 'get', '/demo/query', null);
    expect(capped.status).toBe(200);
    expect(capped.headers['x-license-capped']).toBe('max_result_rows=10000');
    const stated = await call(app, 'get', '/demo/query?rows=10000', null);
    expect(stated.headers['x-license-capped']).toBeUndefined();
    const over = await call(app, 'get', '/demo/query?rows=20000', null);
    expect(over.body).toMatchObject({ error: 'quota_exceeded', quota: 'max_result_rows', limit: 10_000, requested: 20_000 });
    const cappedThenRefused = await call(app, 'get', '/demo/query?joins=3', null);
    expect(cappedThenRefused.status).toBe(402);
    expect(cappedThenRefused.headers['x-license-capped']).toBeUndefined(); // nothing was served
  });

  it('demo and admin: shadow mode answers 200 with X-License-Shadow-Denied, and the status shows the mode and usage', async () => {
    const { app, agent } = await startedHost({ SOFTCLIENT4ES_ENFORCEMENT_MODE: 'shadow' });
    expect(agent.enforcementMode).toBe('shadow');
    const shadowed = await call(app, 'get', '/demo/query?rows=20000&joins=3', null);
    expect(shadowed.status).toBe(200);
    expect(shadowed.headers['x-license-shadow-denied']).toBe('max_result_rows, max_joins');
    const { body } = await call(app, 'get', '/admin/license');
    expect(body.enforcement_mode).toBe('shadow');
    expect(body.usage).toEqual({
      max_materialized_views: { current: 0, limit: 1, overage: 0 },
      max_result_rows: { current: 0, limit: 10_000, overage: 0 },
      max_clusters: { current: 0, limit: 1, overage: 0 },
      max_joins: { current: 0, limit: 2, overage: 0 },
      max_concurrent_queries: { current: 0, limit: 4, overage: 0 },
    });

    // agent.usage() does not throw in shadow mode either: the units are taken (usage stays true) and counted
    const releases = [agent.usage('max_clusters').acquire(), agent.usage('max_clusters').acquire(2)];
    expect((await call(app, 'get', '/admin/license')).body.usage.max_clusters).toEqual({ current: 3, limit: 1, overage: 2 });
    expect((await call(app, 'get', '/metrics', null)).text).toContain(
      'softclient4es_license_enforcement_denials_total{kind="quota",name="max_clusters",mode="shadow"} 1',
    );
    releases.forEach((release) => release());
  });

  it('admin: the status shows usage above a limit as overage after a downgrade', async () => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    const { app, agent } = await startedHost({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s' });
    const releases = [agent.usage('max_clusters').acquire(2), agent.usage('max_clusters').acquire()];
    env.backend.handle(respondJson(401, { error: 'api_key_revoked', message: 'revoked' }));
    await agent.refresh(); // Community: 1 cluster
    const { body } = await call(app, 'get', '/admin/license');
    expect(body).toMatchObject({ tier: 'Community', enforcement_mode: 'enforce', usage: { max_clusters: { current: 3, limit: 1, overage: 2 } } });
    expect(() => agent.usage('max_clusters').acquire()).toThrow(expect.objectContaining({ code: 'QUOTA.EXCEEDED', current: 3, limit: 1 }));
    releases.forEach((release) => release());
    expect((await call(app, 'get', '/admin/license')).body.usage.max_clusters).toEqual({ current: 0, limit: 1, overage: 0 });
    expect(() => agent.usage('max_rows' as never)).toThrow(TypeError);
    expect(agent.usage('max_clusters')).toBe(agent.usage('max_clusters')); // one usage per quota
  });

  it('demo: 429 with Retry-After when no concurrent query is allowed', async () => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro', quotas: { max_concurrent_queries: 0 } })));
    const { app } = await startedHost({ SOFTCLIENT4ES_API_KEY: API_KEY });
    expect((await call(app, 'get', '/demo/query', null)).body).toMatchObject({ quota: 'max_concurrent_queries', limit: 0 });
  });

  it('demo and admin: the Warning header in mid grace', async () => {
    const expiredTenDaysAgo = Math.floor(Date.now() / 1000) - 10 * DAY_SECONDS;
    const jwt = await aLicenseToken(env.key, { tier: 'pro', issuedAt: expiredTenDaysAgo - 30 * DAY_SECONDS, expiresAt: expiredTenDaysAgo });
    const { app } = await startedHost({ SOFTCLIENT4ES_LICENSE_KEY: jwt });
    const demo = await call(app, 'get', '/demo/query', null);
    expect(demo.headers.warning).toMatch(/^299 - "License expired on /);
    const refused = await call(app, 'get', '/demo/query?rows=many', null);
    expect(refused.status).toBe(400);
    expect(refused.headers.warning).toMatch(/^299 - "License expired on /);
    expect((await call(app, 'get', '/admin/license')).body.grace).toMatchObject({ status: 'mid', days_expired: 10 });
  });

  it('admin: PUT installs a license (200, in force at once), DELETE removes it (200), then 404', async () => {
    const { app } = await startedHost();
    const installed = await put(app, { jwt: await aLicenseToken(env.key, { tier: 'pro' }) });
    expect(installed.body).toMatchObject({ status: 'installed', previous_tier: 'Community', new_tier: 'Pro' });
    expect((await call(app, 'get', '/admin/license')).body).toMatchObject({ tier: 'Pro', source: 'static' });
    expect((await call(app, 'delete', '/admin/license')).body).toMatchObject({ status: 'removed', previous_tier: 'Pro', new_tier: 'Community' });
    expect((await call(app, 'delete', '/admin/license')).body).toMatchObject({ error: 'no_installed_license' });
  });

  it('admin: PUT answers 400 with the rejection code, 400 for a body that is not {"jwt"}, 413 over 17 KiB, 401 without the token', async () => {
    const { app } = await startedHost();
    const foreign = await aLicenseToken(generateSigningKey(env.key.kid), { tier: 'pro' }); // same kid, another key
    expect((await put(app, { jwt: foreign })).body).toEqual({ error: 'license_rejected', code: 'LICENSE.SIGNATURE_INVALID', message: expect.any(String) });
    expect((await put(app, '{"jwt": 42}')).body).toMatchObject({ error: 'invalid_request' });
    expect((await put(app, 'not json')).status).toBe(400);
    const tooLarge = await put(app, JSON.stringify({ jwt: 'x'.repeat(17 * 1024) }));
    expect(tooLarge.status).toBe(413);
    expect((await put(app, { jwt: foreign }, null)).status).toBe(401);
    expect((await call(app, 'delete', '/admin/license', null)).status).toBe(401);
    expect((await call(app, 'delete', '/admin/license', ADMIN_TOKEN, 'x'.repeat(1025))).status).toBe(413);
  });

  it('admin: PUT answers 409 while SOFTCLIENT4ES_LICENSE_KEY is configured', async () => {
    const { app } = await startedHost({ SOFTCLIENT4ES_LICENSE_KEY: await aLicenseToken(env.key, { tier: 'enterprise' }) });
    expect((await put(app, { jwt: await aLicenseToken(env.key, { tier: 'pro' }) })).body).toMatchObject({ error: 'static_license_configured' });
  });

  it('admin: PUT and DELETE answer 500 when the cache directory cannot be used', async () => {
    mkdirSync(env.cacheDir, { recursive: true });
    const { app } = await startedHost();
    const jwt = await aLicenseToken(env.key, { tier: 'pro' });
    expect((await put(app, { jwt })).status).toBe(200);
    chmodSync(env.cacheDir, 0o777); // writable by others: no longer used
    expect((await put(app, { jwt })).body).toMatchObject({ error: 'license_not_saved' });
    expect((await call(app, 'delete', '/admin/license')).body).toMatchObject({ error: 'license_not_removed' });
    chmodSync(env.cacheDir, 0o700);
  });

  // Must stay last: it reads what the tests above exercised.
  it('has every documented route and status provoked by this suite', () => {
    expect(contract.exercised().sort()).toEqual(contract.documented().sort());
  });
});
