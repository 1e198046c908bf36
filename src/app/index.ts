/**
 * The public API for host servers: configure, create, embed.
 *
 * ```ts
 * const agent = await createLicenseAgent(loadConfig(process.env));
 * app.use('/admin', agent.adminRouter());
 * await agent.start();
 * ```
 *
 * Importing this module also declares `req.license` and `req.licenseCap` on Express's `Request` (see
 * `adapters/express/license-request.ts`).
 */
export type {} from '../adapters/express/license-request.js';
export { loadConfig, ConfigError, DEFAULT_UPGRADE_URL, type AgentConfig, type ConfigProblem, type LogLevel } from './config.js';
export type { ProxySettings } from '../adapters/http/proxy-route.js';
export { createLicenseAgent, defaultModules, type AgentModules, type LicenseAgentOptions } from './create-license-agent.js';
export { LicenseAgent } from './license-agent.js';
export type { PrometheusMetricsOptions } from '../adapters/prometheus/prometheus-license-metrics.js';
export { TYPES } from '../ports/types.js';
/** Inversify's module class, re-exported so that a host's plugins and the agent share one Inversify. */
export { ContainerModule } from 'inversify';
export type { Clock } from '../ports/clock.port.js';
export type { Timers, TimerHandle } from '../ports/timers.port.js';
export type { Logger, LogFields } from '../ports/logger.port.js';
export type { TokenBackend, TokenRequest, IssuedToken } from '../ports/token-backend.port.js';
export type { LicenseCache } from '../ports/license-cache.port.js';
export type { LicenseVerifier } from '../ports/license-verifier.port.js';
export type { LicenseTelemetry } from '../ports/license-telemetry.port.js';
export type { InstanceIdStore } from '../ports/instance-id-store.port.js';
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
export { TrustedKeysError } from '../adapters/jose/trusted-keys.js';
