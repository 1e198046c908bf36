/**
 * The public API for host servers: configure, create, embed.
 *
 * ```ts
 * const agent = await createLicenseAgent(loadConfig(process.env));
 * app.use('/admin', agent.adminRouter());
 * await agent.start();
 * ```
 *
 * Importing this module is cheap: the composition root and its libraries load on the first
 * `createLicenseAgent` call. Importing it also declares `req.license` and `req.licenseCap` on
 * Express's `Request` (see
 * `adapters/express/license-request.ts`).
 */
import type { AgentConfig } from './config.js';
import type { LicenseAgentOptions } from './create-license-agent.js';
import type { LicenseAgent } from './license-agent.js';

export type {} from '../adapters/express/license-request.js';
export { loadConfig, ConfigError, DEFAULT_UPGRADE_URL, type AgentConfig, type ConfigProblem, type LogLevel } from './config.js';
export type { ProxySettings } from '../adapters/http/proxy-route.js';
export type { AgentModules, LicenseAgentOptions } from './create-license-agent.js';
export { LicenseAgent } from './license-agent.js';
export type { PrometheusMetricsOptions } from '../adapters/prometheus/prometheus-license-metrics.js';
export { TYPES } from '../ports/types.js';
export type { Clock } from '../ports/clock.port.js';
export type { Timers, TimerHandle } from '../ports/timers.port.js';
export type { Logger, LogFields } from '../ports/logger.port.js';
export type { TokenBackend, TokenRequest, IssuedToken } from '../ports/token-backend.port.js';
export type { UsageCounters, UsageCounts, UsageObserver, UsageReport } from '../domain/telemetry/usage-counters.js';
export type { LicenseCache } from '../ports/license-cache.port.js';
export type { LicenseVerifier } from '../ports/license-verifier.port.js';
export type { LicenseTelemetry } from '../ports/license-telemetry.port.js';
export type { InstanceIdStore } from '../ports/instance-id-store.port.js';
export type { InstalledLicenseStore } from '../ports/installed-license-store.port.js';
export type { HostFingerprint } from '../ports/host-fingerprint.port.js';
export type { ReloadResult } from './reload/configuration-reload.js';
export type { InstallResult } from '../domain/installation/install-license.js';
export type { RemoveResult } from '../domain/installation/remove-installed-license.js';
export type { HighWaterMark, HighWaterMarkStore } from '../ports/high-water-mark-store.port.js';
export type { TrustedTime } from '../ports/trusted-time.port.js';
export type { ApiKey } from '../domain/model/api-key.js';
export type { License, LicenseClaims, LicenseSource, Platform, TokenInfo, VerifiedLicenseToken } from '../domain/model/license.js';
export type { LicenseSnapshot, LicenseChange } from '../domain/model/license-state.js';
export type { ResolutionAttempt, AttemptOutcome } from '../domain/model/resolution-trail.js';
export type { RefreshOutcome } from '../domain/refresh/refresh-license.js';
export type { Tier, TierName } from '../domain/model/tier.js';
export type { Feature } from '../domain/model/feature.js';
export type { QuotaName, QuotaLimit, Quotas } from '../domain/model/quota.js';
export type { SafeText } from '../domain/model/safe-text.js';
export type { MeasuredQuota } from '../adapters/express/enforcement.js';
export type { UsageQuota, Release, EnforcementMode, QuotaUsage } from '../domain/enforcement/usage-quota.js';
export type { LicenseStatusBody } from '../adapters/express/license-status.body.js';
export type { MetricsExposition } from '../adapters/express/metrics-handler.js';
export {
  ApiKeyError,
  BackendError,
  CacheError,
  LicenseAgentError,
  LicenseTokenError,
  QuotaExceededError,
  type ApiKeyErrorCode,
  type BackendErrorCode,
  type CacheErrorCode,
  type ErrorCode,
  type Failure,
  type LicenseTokenErrorCode,
  type QuotaErrorCode,
  type RejectionKind,
} from '../domain/model/errors.js';
export { TrustedKeysError } from '../adapters/jose/trusted-keys.error.js';

/**
 * Builds the agent from its container modules; see `create-license-agent.ts` for the options and
 * what it rejects with. Loaded on first call: importing the package loads neither Inversify nor the
 * adapters' libraries (jose, prom-client, pino, node-fetch), which cost a host ~200 ms at import.
 * Plugins (`ContainerModule`, `defaultModules`) come from `softclient4es-license-agent/plugins`.
 */
export async function createLicenseAgent(config: AgentConfig, options?: LicenseAgentOptions): Promise<LicenseAgent> {
  const composition = await import('./create-license-agent.js');
  return composition.createLicenseAgent(config, options);
}
