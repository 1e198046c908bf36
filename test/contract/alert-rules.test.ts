import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

interface AlertTest {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts: readonly unknown[];
}

interface PromtoolTest {
  readonly name: string;
  readonly input_series: readonly { readonly series: string }[];
  readonly alert_rule_test: readonly AlertTest[];
}

const RULES_DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const RULES_FILE = `${RULES_DIR}license-alerts.yml`;
const RULES_TEST_FILE = `${RULES_DIR}license-alerts.test.yml`;
const rules: Rule[] = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
const promtoolTests = (parse(readFileSync(RULES_TEST_FILE, 'utf8')) as { tests: PromtoolTest[] }).tests;

/** Metric names an expression reads: identifiers that are not PromQL keywords, functions or label names. */
function metricsIn(expr: string): string[] {
  const withoutLabels = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const identifiers = withoutLabels.match(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\{|\[|\)|$|\s|[<>=!+*/-]))/g) ?? [];
  const promql = new Set(['and', 'or', 'unless', 'sum', 'time', 'increase', 'rate', 'bool']);
  return [...new Set(identifiers.filter((name) => !promql.has(name)))];
}

/**
 * Runs promtool (Debian: `apt-get install -y prometheus`; `.ci/run` installs it when missing).
 * Missing promtool fails the test with that hint: the alert rules are never left unchecked.
 */
function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: RULES_DIR, encoding: 'utf8', timeout: 120_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('promtool is not installed, so the alert rules cannot be checked: install it (Debian/Ubuntu: apt-get install -y prometheus; or the prometheus release tarball from prometheus.io) and run the tests again');
  }
  if (result.error !== undefined) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
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
  it('passes promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', RULES_FILE);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) });
  });

  it('passes its promtool unit tests (license-alerts.test.yml): silent when healthy, firing when failing', () => {
    const { status, output } = promtool('test', 'rules', RULES_TEST_FILE);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  }, 120_000);

  it('has unit tests that see every alert both fire and stay silent in a healthy deployment', () => {
    const cases = promtoolTests.flatMap((test) => test.alert_rule_test.map((check) => ({ ...check, healthy: test.name.startsWith('healthy') })));
    expect(promtoolTests.filter((test) => test.name.startsWith('healthy')).length).toBeGreaterThanOrEqual(3);
    for (const { alert } of rules) {
      expect({ alert, fires: cases.some((check) => check.alertname === alert && check.exp_alerts.length > 0) }).toEqual({ alert, fires: true });
      const silentWhenHealthy = cases.some((check) => check.alertname === alert && check.healthy && check.exp_alerts.length === 0);
      expect({ alert, silentWhenHealthy }).toEqual({ alert, silentWhenHealthy: true });
    }
    // A healthy case never expects an alert.
    expect(cases.filter((check) => check.healthy && check.exp_alerts.length > 0)).toEqual([]);
  });

  it('gives every rule a severity and a summary', () => {
    for (const rule of rules) {
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toEqual(expect.any(String));
    }
  });

  it('reads only metrics the agent exports, and its unit tests feed only those', async () => {
    const exported = await exportedMetricNames();
    const used = rules.flatMap((rule) => metricsIn(rule.expr));
    expect(used).toEqual(
      expect.arrayContaining([
        'softclient4es_license_degraded',
        'softclient4es_license_expiry_timestamp_seconds',
        'softclient4es_license_token_lifetime_seconds',
        'softclient4es_license_refresh_attempts_total',
      ]),
    );
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
    const fed = promtoolTests.flatMap((test) => test.input_series.map(({ series }) => series.replace(/\{.*$/, '')));
    expect([...new Set(fed)].filter((name) => !exported.has(name))).toEqual([]);
  });
});
