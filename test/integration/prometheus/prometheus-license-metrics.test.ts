import { describe, expect, it } from '@jest/globals';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { PrometheusLicenseMetrics } from '../../../src/adapters/prometheus/prometheus-license-metrics.js';
import { UsageQuotas } from '../../../src/domain/enforcement/usage-quota.js';
import { COMMUNITY_LICENSE, licenseFromToken } from '../../../src/domain/model/license.js';
import { LicenseState } from '../../../src/domain/model/license-state.js';
import { trusted } from '../../../src/domain/model/safe-text.js';
import { DAY, FixedClock, HOUR } from '../../support/fixed-clock.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';


let suspect = false;
let cloned = false;

function setUp(apiKeyConfigured = true, refreshEnabled = apiKeyConfigured) {
  suspect = false;
  cloned = false;
  const clock = new FixedClock();
  const state = new LicenseState(clock.now());
  const source = { current: () => state.current(), clock, apiKeyConfigured, refreshEnabled, clockSuspect: () => suspect, version: '1.2.3', instanceCloned: () => cloned };
  const metrics = new PrometheusLicenseMetrics(source, { processMetrics: false });
  const installPro = (expiresInMs: number, options: { source?: 'static' | 'api_key' | 'cache'; trial?: boolean } = {}) => {
    const claims = aLicenseClaims(clock.now(), { tier: 'pro', trial: options.trial ?? false, expiresAt: new Date(clock.now().getTime() + expiresInMs) });
    const token = { jwt: 'x', gracePeriodMs: 14 * 86_400_000, claims, info: { kid: 'k', jti: null, issuedAt: claims.issuedAt, expiresAt: claims.expiresAt, fingerprint: 'f' } };
    state.install(licenseFromToken(token, options.source ?? 'api_key'), [], clock.now());
  };
  /** The value of one sample line, e.g. `softclient4es_license_tier{tier="pro"}`; undefined when absent. */
  const sample = async (series: string) => {
    const line = (await metrics.render()).split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  return { clock, state, metrics, installPro, sample };
}

describe('PrometheusLicenseMetrics', () => {
  it('exports the tier in force as a one-hot gauge, read at scrape time', async () => {
    const { installPro, sample } = setUp();
    expect(await sample('softclient4es_license_tier{tier="community"}')).toBe(1);
    installPro(30 * DAY);
    expect(await sample('softclient4es_license_tier{tier="community"}')).toBe(0);
    expect(await sample('softclient4es_license_tier{tier="pro"}')).toBe(1);
    expect(await sample('softclient4es_license_tier{tier="enterprise"}')).toBe(0);
  });

  it('exports seconds until expiry and until the end of grace, negative once past, absent for Community', async () => {
    const { clock, state, metrics, installPro, sample } = setUp();
    expect(await metrics.render()).not.toMatch(/^softclient4es_license_(expiry|grace_end)_seconds/m);
    installPro(10 * DAY);
    expect(await sample('softclient4es_license_expiry_seconds{tier="pro"}')).toBe(10 * 86_400);
    expect(await sample('softclient4es_license_grace_end_seconds{tier="pro"}')).toBe(24 * 86_400);
    clock.advance(11 * DAY);
    expect(await sample('softclient4es_license_expiry_seconds{tier="pro"}')).toBe(-86_400);
    state.install(COMMUNITY_LICENSE, [], clock.now());
    expect(await metrics.render()).not.toMatch(/^softclient4es_license_(expiry|grace_end)_seconds/m);
  });

  it('exports the build info with the agent version', async () => {
    const { sample } = setUp();
    expect(await sample('softclient4es_build_info{version="1.2.3"}')).toBe(1);
  });

  it('exports the expiry as a Unix time and the token lifetime, both absent for Community', async () => {
    const { clock, state, metrics, installPro, sample } = setUp();
    installPro(DAY);
    const issuedAt = clock.now().getTime() / 1000;
    clock.advance(HOUR); // read at scrape time, but neither moves with the clock
    expect(await sample('softclient4es_license_expiry_timestamp_seconds{tier="pro"}')).toBe(issuedAt + 86_400);
    expect(await sample('softclient4es_license_token_lifetime_seconds{tier="pro"}')).toBe(2 * 86_400); // issued a day before it was installed
    state.install(COMMUNITY_LICENSE, [], clock.now());
    expect(await metrics.render()).not.toMatch(/^softclient4es_license_(expiry_timestamp|token_lifetime)_seconds/m);
  });

  it('exports the source of the license in force as a one-hot gauge, and whether it is a trial', async () => {
    const { installPro, sample } = setUp();
    expect(await sample('softclient4es_license_source{source="community"}')).toBe(1);
    expect(await sample('softclient4es_license_trial')).toBe(0);
    installPro(30 * DAY, { source: 'static', trial: true });
    expect(await sample('softclient4es_license_source{source="static"}')).toBe(1);
    expect(await sample('softclient4es_license_source{source="api_key"}')).toBe(0);
    expect(await sample('softclient4es_license_source{source="cache"}')).toBe(0);
    expect(await sample('softclient4es_license_source{source="community"}')).toBe(0);
    expect(await sample('softclient4es_license_trial')).toBe(1);
  });

  it('exports whether periodic refresh runs, which an API key alone does not say', async () => {
    expect(await setUp(true, true).sample('softclient4es_license_refresh_enabled')).toBe(1);
    expect(await setUp(true, false).sample('softclient4es_license_refresh_enabled')).toBe(0);
    expect(await setUp(true, false).sample('softclient4es_license_api_key_configured')).toBe(1);
  });

  it('exports degradation and whether an API key is configured', async () => {
    const { state, clock, installPro, sample } = setUp(false);
    expect(await sample('softclient4es_license_api_key_configured')).toBe(0);
    installPro(DAY);
    const backendDown = { source: 'api_key', outcome: 'failed', code: trusted('BACKEND.UNREACHABLE'), message: trusted('unreachable') } as const;
    state.install(COMMUNITY_LICENSE, [backendDown], clock.now());
    expect(await sample('softclient4es_license_degraded')).toBe(1);
  });

  it('counts refresh attempts by outcome and reason and stamps the last success', async () => {
    const { clock, metrics, sample } = setUp();
    expect(await sample('softclient4es_license_last_successful_refresh_timestamp_seconds')).toBe(0);
    metrics.refreshFinished({ outcome: 'failed', reason: 'BACKEND.UNREACHABLE' });
    metrics.refreshFinished({ outcome: 'failed', reason: 'BACKEND.UNREACHABLE' });
    clock.advance(HOUR);
    metrics.refreshFinished({ outcome: 'refreshed', reason: null });
    expect(await sample('softclient4es_license_refresh_attempts_total{outcome="failed",reason="BACKEND.UNREACHABLE"}')).toBe(2);
    expect(await sample('softclient4es_license_refresh_attempts_total{outcome="refreshed",reason="none"}')).toBe(1);
    expect(await sample('softclient4es_license_last_successful_refresh_timestamp_seconds')).toBe(clock.now().getTime() / 1000);
  });

  it('counts a refresh without a backend call as skipped, without stamping a success', async () => {
    const { clock, metrics, sample } = setUp();
    clock.advance(HOUR);
    metrics.refreshFinished({ outcome: 'skipped', reason: null });
    expect(await sample('softclient4es_license_refresh_attempts_total{outcome="skipped",reason="none"}')).toBe(1);
    expect(await sample('softclient4es_license_last_successful_refresh_timestamp_seconds')).toBe(0);
  });

  it('counts enforcement denials by kind, name and mode (shadow: let through)', async () => {
    const { metrics, sample } = setUp();
    metrics.enforcementDenied({ kind: 'quota', name: 'max_joins', mode: 'enforce' });
    metrics.enforcementDenied({ kind: 'feature', name: 'federation', mode: 'enforce' });
    metrics.enforcementDenied({ kind: 'quota', name: 'max_joins', mode: 'enforce' });
    metrics.enforcementDenied({ kind: 'quota', name: 'max_joins', mode: 'shadow' });
    expect(await sample('softclient4es_license_enforcement_denials_total{kind="quota",name="max_joins",mode="enforce"}')).toBe(2);
    expect(await sample('softclient4es_license_enforcement_denials_total{kind="feature",name="federation",mode="enforce"}')).toBe(1);
    expect(await sample('softclient4es_license_enforcement_denials_total{kind="quota",name="max_joins",mode="shadow"}')).toBe(1);
  });

  it('exports the enforcement mode as a one-hot gauge, enforce by default', async () => {
    const { sample } = setUp();
    expect(await sample('softclient4es_license_enforcement_mode{mode="enforce"}')).toBe(1);
    expect(await sample('softclient4es_license_enforcement_mode{mode="shadow"}')).toBe(0);
    const clock = new FixedClock();
    const state = new LicenseState(clock.now());
    const shadow = new PrometheusLicenseMetrics(
      { current: () => state.current(), clock, apiKeyConfigured: false, refreshEnabled: false, clockSuspect: () => false, version: '1', enforcementMode: 'shadow' },
      { processMetrics: false },
    );
    const text = await shadow.render();
    expect(text).toContain('softclient4es_license_enforcement_mode{mode="shadow"} 1');
    expect(text).toContain('softclient4es_license_enforcement_mode{mode="enforce"} 0');
  });

  it('exports each quota\'s usage and its overage above the limit in force, read at scrape time', async () => {
    const clock = new FixedClock();
    const state = new LicenseState(clock.now());
    const usage = new UsageQuotas(() => state.current().license.quotas);
    const metrics = new PrometheusLicenseMetrics(
      { current: () => state.current(), clock, apiKeyConfigured: false, refreshEnabled: false, clockSuspect: () => false, version: '1', usage: () => usage.report() },
      { processMetrics: false },
    );
    usage.counter('max_materialized_views').set(3); // Community allows 1: a downgrade left 3
    usage.counter('max_concurrent_queries').take(2);
    const text = await metrics.render();
    expect(text).toContain('softclient4es_license_quota_usage{quota="max_materialized_views"} 3');
    expect(text).toContain('softclient4es_license_quota_overage{quota="max_materialized_views"} 2');
    expect(text).toContain('softclient4es_license_quota_usage{quota="max_concurrent_queries"} 2');
    expect(text).toContain('softclient4es_license_quota_overage{quota="max_concurrent_queries"} 0');
    usage.counter('max_materialized_views').set(1);
    expect(await metrics.render()).toContain('softclient4es_license_quota_overage{quota="max_materialized_views"} 0');
  });

  it('adds the default process metrics unless told not to', async () => {
    const clock = new FixedClock();
    const state = new LicenseState(clock.now());
    const source = { current: () => state.current(), clock, apiKeyConfigured: false, refreshEnabled: false, clockSuspect: () => false, version: '1.2.3' };
    expect(await new PrometheusLicenseMetrics(source).render()).toMatch(/^process_cpu_user_seconds_total /m);
    expect(await new PrometheusLicenseMetrics(source, { processMetrics: false }).render()).not.toContain('process_cpu');
  });

  it('exports whether the instance record came from another host (clone detection), read at scrape time', async () => {
    const { sample } = setUp();
    expect(await sample('softclient4es_instance_cloned')).toBe(0);
    cloned = true;
    expect(await sample('softclient4es_instance_cloned')).toBe(1);
  });

  it('exports whether the clock is suspect, read at scrape time', async () => {
    const { sample } = setUp();
    expect(await sample('softclient4es_license_clock_suspect')).toBe(0);
    suspect = true;
    expect(await sample('softclient4es_license_clock_suspect')).toBe(1);
  });

  it('joins a host registry that already has the default metrics, adding no metric name twice', async () => {
    const host = new Registry();
    collectDefaultMetrics({ register: host });
    new Counter({ name: 'host_requests_total', help: 'The host\'s own.', registers: [host] }).inc();
    const clock = new FixedClock();
    const state = new LicenseState(clock.now());
    const source = { current: () => state.current(), clock, apiKeyConfigured: false, refreshEnabled: false, clockSuspect: () => false, version: '1.2.3' };

    const metrics = new PrometheusLicenseMetrics(source, { registry: host });
    expect(metrics.registry).toBe(host);
    const text = await host.metrics();
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]);
    expect(families).toEqual(expect.arrayContaining(['host_requests_total', 'process_cpu_user_seconds_total', 'softclient4es_license_tier']));
    expect(families.length).toBe(new Set(families).size);
    expect(await metrics.render()).toMatch(/^host_requests_total 1$/m);
    // Asking for the process metrics again in a registry that has them is refused, not merged.
    const other = new Registry();
    collectDefaultMetrics({ register: other });
    expect(() => new PrometheusLicenseMetrics(source, { registry: other, processMetrics: true })).toThrow(/already been registered/);
  });
});
