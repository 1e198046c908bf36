import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import request from 'supertest';
import { createLicenseAgent } from '../../../src/app/create-license-agent.js';
import { createHostApp } from '../../../src/app/host-server.js';
import type { LicenseAgent } from '../../../src/app/license-agent.js';
import { prometheusMetricsModule } from '../../../src/app/modules/prometheus-metrics.module.js';
import { AgentEnvironment } from '../../support/agent-environment.js';
import { issueToken } from '../../support/fake-license-backend.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { aLicenseToken } from '../../support/signing-keys.js';

/** The metric families of a Prometheus text exposition, in order (a name twice is a duplicate). */
const families = (text: string) => [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1] as string);

describe('createLicenseAgent({ metrics }): the agent in a host registry', () => {
  let env: AgentEnvironment;
  let agent: LicenseAgent | undefined;

  beforeEach(async () => {
    env = await AgentEnvironment.create();
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await env.dispose();
  });

  it('adds its metrics to a host registry that already has the default process metrics, no name twice', async () => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    const host = new Registry();
    collectDefaultMetrics({ register: host });
    new Counter({ name: 'host_queries_total', help: 'Queries the host served.', registers: [host] }).inc(3);
    const logger = new RecordingLogger();

    agent = await createLicenseAgent(env.config({ SOFTCLIENT4ES_API_KEY: 'sk-host-registry-test' }), { logger, metrics: { registry: host } });
    await agent.start();

    const hostText = await host.metrics();
    expect(hostText).toMatch(/^softclient4es_license_tier\{tier="pro"\} 1$/m);
    expect(hostText).toMatch(/^softclient4es_license_refresh_attempts_total\{outcome="refreshed",reason="none"\} 1$/m);
    expect(hostText).toMatch(/^host_queries_total 3$/m);
    const names = families(hostText);
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
    // The agent's own /metrics serves that same registry.
    const served = (await request(createHostApp(agent, logger)).get('/metrics').expect(200)).text;
    expect(families(served)).toEqual(names);
  });

  it('leaves the process metrics out of its own registry with processMetrics: false', async () => {
    agent = await createLicenseAgent(env.config(), { logger: new RecordingLogger(), metrics: { processMetrics: false } });
    const served = (await request(createHostApp(agent, new RecordingLogger())).get('/metrics').expect(200)).text;
    expect(served).toMatch(/^softclient4es_license_tier\{tier="community"\} 1$/m);
    expect(served).not.toMatch(/^process_|^nodejs_/m);
  });

  it('refuses metrics options together with a replacement metrics module', async () => {
    await expect(
      createLicenseAgent(env.config(), { logger: new RecordingLogger(), metrics: { processMetrics: false }, modules: { metrics: prometheusMetricsModule() } }),
    ).rejects.toThrow(/cannot be combined with modules\.metrics/);
  });
});
