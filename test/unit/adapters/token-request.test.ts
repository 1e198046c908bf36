import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { tokenRequestBody } from '../../../src/adapters/http/token-request.js';
import { parseApiKey } from '../../../src/domain/model/api-key.js';
import type { UsageReport } from '../../../src/domain/telemetry/usage-counters.js';
import type { TokenRequest } from '../../../src/ports/token-backend.port.js';

/** DESIGN §4 and §12, written out: the only keys the backend may ever receive. */
const BODY_KEYS = ['instance_id', 'version'];
const USAGE_KEYS = ['feature_denials', 'peak_usage', 'platform', 'quota_denials', 'uptime_seconds'];
const QUOTAS = ['max_materialized_views', 'max_result_rows', 'max_clusters', 'max_joins', 'max_concurrent_queries'];
const FEATURES = ['materialized_views', 'jdbc_driver', 'adbc_driver', 'flight_sql', 'federation', 'repl'];

const API_KEY = 'sk-token-request-secret';
const REQUEST: TokenRequest = { apiKey: parseApiKey(API_KEY), instanceId: '6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f', agentVersion: '1.2.3' };
const USAGE: UsageReport = {
  quotaDenials: { max_result_rows: 2 },
  featureDenials: { federation: 1 },
  peakUsage: { max_concurrent_queries: 7 },
  uptimeSeconds: 3600,
  platform: 'linux',
};

const bodyOf = (request: TokenRequest) => JSON.parse(tokenRequestBody(request)) as Record<string, unknown>;

describe('tokenRequestBody', () => {
  it('is instance_id and version alone when telemetry is off (no usage in the request)', () => {
    expect(bodyOf(REQUEST)).toStrictEqual({ instance_id: REQUEST.instanceId, version: '1.2.3' });
  });

  it('carries usage with exactly its five fields, in snake_case', () => {
    expect(bodyOf({ ...REQUEST, usage: USAGE })).toStrictEqual({
      instance_id: REQUEST.instanceId,
      version: '1.2.3',
      usage: {
        quota_denials: { max_result_rows: 2 },
        feature_denials: { federation: 1 },
        peak_usage: { max_concurrent_queries: 7 },
        uptime_seconds: 3600,
        platform: 'linux',
      },
    });
  });

  it('sends empty counts as empty objects', () => {
    const usage = bodyOf({ ...REQUEST, usage: { ...USAGE, quotaDenials: {}, featureDenials: {}, peakUsage: {} } }).usage;

    expect(usage).toMatchObject({ quota_denials: {}, feature_denials: {}, peak_usage: {} });
  });

  it('never carries the API key', () => {
    expect(tokenRequestBody({ ...REQUEST, usage: USAGE })).not.toContain(API_KEY);
  });

  it('leaves out names that are not quotas or features and counts that are not whole numbers', () => {
    const usage = {
      ...USAGE,
      quotaDenials: { max_joins: 1, 'GET /customers?id=42': 3, max_clusters: -1, max_result_rows: 1.5 },
      featureDenials: { repl: 2, __proto__: 5, hostname: 1 },
      peakUsage: { max_concurrent_queries: Number.NaN, max_materialized_views: 4 },
      uptimeSeconds: -5,
      platform: 'db-01.corp.example',
      hostname: 'db-01.corp.example',
    } as unknown as UsageReport;

    expect(bodyOf({ ...REQUEST, usage }).usage).toStrictEqual({
      quota_denials: { max_joins: 1 },
      feature_denials: { repl: 2 },
      peak_usage: { max_materialized_views: 4 },
      uptime_seconds: 0,
      platform: 'unknown',
    });
  });

  it('never holds anything but instance_id, version and usage with exactly its keys, whatever it is handed (property)', () => {
    const anyName = fc.oneof(fc.constantFrom(...QUOTAS, ...FEATURES, '__proto__', 'constructor', 'toString'), fc.string());
    const anyValue = fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.object());
    const anyCounts = fc.dictionary(anyName, anyValue);
    const anyUsage = fc.record({
      quotaDenials: anyCounts,
      featureDenials: anyCounts,
      peakUsage: anyCounts,
      uptimeSeconds: anyValue,
      platform: fc.oneof(fc.constantFrom('linux', 'darwin', 'win32'), fc.string()),
      extra: anyValue,
    });
    fc.assert(
      fc.property(fc.option(anyUsage, { nil: undefined }), (usage) => {
        const body = bodyOf({ ...REQUEST, ...(usage === undefined ? {} : { usage: usage as unknown as UsageReport }) });
        const expectedKeys = usage === undefined ? BODY_KEYS : [...BODY_KEYS, 'usage'].sort();
        expect(Object.keys(body).sort()).toEqual(expectedKeys);
        if (usage === undefined) return;
        const sent = body.usage as Record<string, unknown>;
        expect(Object.keys(sent).sort()).toEqual(USAGE_KEYS);
        for (const [field, names] of [['quota_denials', QUOTAS], ['feature_denials', FEATURES], ['peak_usage', QUOTAS]] as const) {
          for (const [name, count] of Object.entries(sent[field] as Record<string, unknown>)) {
            expect(names).toContain(name);
            expect(Number.isSafeInteger(count) && (count as number) >= 0).toBe(true);
          }
        }
        expect(Number.isSafeInteger(sent.uptime_seconds) && (sent.uptime_seconds as number) >= 0).toBe(true);
        expect(sent.platform).toMatch(/^[a-z0-9_]{1,32}$/);
      }),
      { numRuns: 500 },
    );
  });
});
