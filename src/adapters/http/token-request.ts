import { FEATURES } from '../../domain/model/feature.js';
import { QUOTA_NAMES } from '../../domain/model/quota.js';
import type { UsageReport } from '../../domain/telemetry/usage-counters.js';
import type { TokenRequest } from '../../ports/token-backend.port.js';

/** Node's `process.platform` values are short lower-case words; anything else is not sent as such. */
const PLATFORM_PATTERN = /^[a-z0-9_]{1,32}$/;

/**
 * The JSON body of the token request (DESIGN §4, §12): `instance_id`, `version` and, when telemetry
 * is on, `usage` with exactly `quota_denials`, `feature_denials`, `peak_usage`, `uptime_seconds`
 * and `platform`. Built key by key from the known quota and feature names, never by spreading what
 * it is given, so that nothing else can ever travel with the API key.
 */
export function tokenRequestBody({ instanceId, agentVersion, usage }: TokenRequest): string {
  const body: Record<string, unknown> = { instance_id: instanceId, version: agentVersion };
  if (usage !== undefined) body.usage = usageBody(usage);
  return JSON.stringify(body);
}

function usageBody(usage: UsageReport): Record<string, unknown> {
  return {
    quota_denials: counts(usage.quotaDenials, QUOTA_NAMES),
    feature_denials: counts(usage.featureDenials, FEATURES),
    peak_usage: counts(usage.peakUsage, QUOTA_NAMES),
    uptime_seconds: wholeNumber(usage.uptimeSeconds) ?? 0,
    platform: PLATFORM_PATTERN.test(usage.platform) ? usage.platform : 'unknown',
  };
}

/** The entries of `record` under `names` that hold a whole number, in the names' order. */
function counts(record: Readonly<Partial<Record<string, number>>>, names: readonly string[]): Record<string, number> {
  const picked: Record<string, number> = {};
  for (const name of names) {
    const value = Object.hasOwn(record, name) ? wholeNumber(record[name]) : null;
    if (value !== null) picked[name] = value;
  }
  return picked;
}

function wholeNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}
