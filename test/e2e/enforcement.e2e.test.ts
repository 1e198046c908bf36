import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { ServerProcess } from '../support/server-process.js';

/** Capping and shadow enforcement on the built server's /demo/query (Community: max_result_rows 10000). */
describe('the built server: capping and shadow enforcement', () => {
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

  const start = async (overrides: Record<string, string> = {}) => {
    const started = await ServerProcess.start(env.env(overrides));
    server = started.server;
    for (let i = 0; i < 100 && (await fetch(`${started.url}/readyz`)).status !== 200; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    return started.url;
  };
  const status = async (url: string) =>
    (await (await fetch(`${url}/admin/license`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as Record<string, unknown>;

  it('caps /demo/query without rows at max_result_rows and refuses an explicit amount over it', async () => {
    const url = await start();
    const capped = await fetch(`${url}/demo/query`);
    expect(capped.status).toBe(200);
    expect(capped.headers.get('x-license-capped')).toBe('max_result_rows=10000');
    expect(await capped.json()).toEqual({ ok: true, tier: 'Community' });

    const refused = await fetch(`${url}/demo/query?rows=20000`);
    expect(refused.status).toBe(402);
    expect(await refused.json()).toMatchObject({ error: 'quota_exceeded', quota: 'max_result_rows', limit: 10_000, requested: 20_000 });
    expect(refused.headers.get('x-license-shadow-denied')).toBeNull();
    expect(await status(url)).toMatchObject({ enforcement_mode: 'enforce', usage: { max_concurrent_queries: { current: 0, limit: 4, overage: 0 } } });
    expect(await (await fetch(`${url}/metrics`)).text()).toContain(
      'softclient4es_license_enforcement_denials_total{kind="quota",name="max_result_rows",mode="enforce"} 1',
    );
  });

  it('in shadow mode answers 200 with X-License-Shadow-Denied, counts it, logs one WARN, and shows the mode', async () => {
    const url = await start({ SOFTCLIENT4ES_ENFORCEMENT_MODE: 'shadow' });
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${url}/demo/query?rows=20000`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-license-shadow-denied')).toBe('max_result_rows');
      expect(await response.json()).toEqual({ ok: true, tier: 'Community' });
    }
    expect(await status(url)).toMatchObject({ tier: 'Community', enforcement_mode: 'shadow' });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('softclient4es_license_enforcement_denials_total{kind="quota",name="max_result_rows",mode="shadow"} 3');
    expect(metrics).toContain('softclient4es_license_enforcement_mode{mode="shadow"} 1');
    const warn = await server!.waitForLog((line) => line.msg.startsWith('Shadow enforcement'));
    expect(warn).toMatchObject({ level: 40, name: 'max_result_rows', refusal: 402 });
    expect(server!.lines.filter((line) => line.msg.startsWith('Shadow enforcement'))).toHaveLength(1); // once a minute per gate
  });

  it('refuses an unknown enforcement mode with one line and exit code 2', async () => {
    server = ServerProcess.spawn(env.env({ SOFTCLIENT4ES_ENFORCEMENT_MODE: 'dry-run' }));
    expect(await server.exitCode()).toBe(2);
    expect(server.stderr.trim().split('\n')).toEqual(['Invalid SOFTCLIENT4ES_ENFORCEMENT_MODE: expected enforce or shadow (got "dry-run")']);
  });
});
