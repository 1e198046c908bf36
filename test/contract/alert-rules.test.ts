import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { parse } from 'yaml';
import { createLicenseAgent } from '../../src/app/create-license-agent.js';
import { createHostApp } from '../../src/app/host-server.js';
import { AgentEnvironment } from '../support/agent-environment.js';
import { issueToken } from '../support/fake-license-backend.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { aLicenseToken } from '../support/signing-keys.js';

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly labels?: { readonly severity?: string };
  readonly annotations?: { readonly summary?: string };
}

const RULES_FILE = new URL('../../deploy/prometheus/license-alerts.yml', import.meta.url);
const rules: Rule[] = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);

/** Metric names an expression reads: identifiers that are not PromQL keywords or functions. */
function metricsIn(expr: string): string[] {
  const identifiers = expr.replace(/"[^"]*"/g, '').match(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\{|\[|\)|$|\s|[<>=!+*/-]))/g) ?? [];
  const promql = new Set(['and', 'or', 'unless', 'on', 'ignoring', 'by', 'without', 'time', 'increase', 'rate']);
  return [...new Set(identifiers.filter((name) => !promql.has(name)))];
}

/** The metric families a real agent exports once it has refreshed and denied a request. */
async function exportedMetricNames(): Promise<Set<string>> {
  const env = await AgentEnvironment.create();
  try {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    const logger = new RecordingLogger();
    const agent = await createLicenseAgent(env.config({ SOFTCLIENT4ES_API_KEY: 'sk-alert-rules-test' }), { logger });
    await agent.start();
    const app = createHostApp(agent, logger);
    await request(app).get('/demo/query?joins=1000').expect(402);
    const { text } = await request(app).get('/metrics').expect(200);
    await agent.stop();
    return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1] as string));
  } finally {
    await env.dispose();
  }
}

describe('deploy/prometheus/license-alerts.yml', () => {
  it('alerts on expiry within 14 days, on no successful refresh for 24 h with an API key, and on degradation', () => {
    const byMetric = (metric: string) => rules.filter((rule) => rule.expr.includes(metric)).map((rule) => rule.alert);
    expect(rules.find((rule) => rule.expr.includes('softclient4es_license_expiry_seconds'))?.expr).toMatch(/< 14 \* 86400/);
    const stale = rules.find((rule) => rule.expr.includes('softclient4es_license_last_successful_refresh_timestamp_seconds'));
    expect(stale?.expr).toMatch(/> 86400/);
    expect(stale?.expr).toContain('softclient4es_license_api_key_configured == 1');
    expect(byMetric('softclient4es_license_degraded == 1')).toHaveLength(1);
  });

  it('gives every rule a severity and a summary', () => {
    for (const rule of rules) {
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toEqual(expect.any(String));
    }
  });

  it('reads only metrics the agent exports', async () => {
    const exported = await exportedMetricNames();
    const used = rules.flatMap((rule) => metricsIn(rule.expr));
    expect(used).toEqual(expect.arrayContaining(['softclient4es_license_degraded', 'process_start_time_seconds']));
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });
});
