/**
 * The public API for host servers: configure, create, embed.
 *
 * ```ts
 * const agent = await createLicenseAgent(loadConfig(process.env));
 * app.use('/admin', agent.adminRouter());
 * await agent.start();
 * ```
 */
export { loadConfig, ConfigError, type AgentConfig } from './config.js';
export type { ProxySettings } from '../adapters/http/proxy-route.js';
export { createLicenseAgent, defaultModules, type AgentModules, type LicenseAgentOptions } from './create-license-agent.js';
export { LicenseAgent } from './license-agent.js';
export { TYPES } from '../ports/types.js';
export type { Clock } from '../ports/clock.port.js';
export type { Logger, LogFields } from '../ports/logger.port.js';
export type { TokenBackend, TokenRequest, IssuedToken } from '../ports/token-backend.port.js';
export type { LicenseCache } from '../ports/license-cache.port.js';
export type { LicenseVerifier } from '../ports/license-verifier.port.js';
export type { InstanceIdStore } from '../ports/instance-id-store.port.js';
export type { License, LicenseSource, Platform } from '../domain/model/license.js';
export type { LicenseSnapshot } from '../domain/model/license-state.js';
export type { Tier } from '../domain/model/tier.js';
export type { Feature } from '../domain/model/feature.js';
export type { QuotaName, QuotaLimit, Quotas } from '../domain/model/quota.js';
export { BackendError, CacheError, LicenseTokenError, ApiKeyError, LicenseAgentError } from '../domain/model/errors.js';
