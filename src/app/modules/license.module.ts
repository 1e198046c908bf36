import { ContainerModule } from 'inversify';
import { ExpireLicense } from '../../domain/expiry/expire-license.js';
import { GraceWarnings } from '../../domain/expiry/grace-warnings.js';
import { LicenseState } from '../../domain/model/license-state.js';
import { BackendLicenseStep } from '../../domain/resolution/backend-license.step.js';
import { CachedLicenseStep } from '../../domain/resolution/cached-license.step.js';
import { ForceRefresh } from '../../domain/refresh/force-refresh.js';
import { RefreshLicense } from '../../domain/refresh/refresh-license.js';
import { ResolveLicense } from '../../domain/resolution/resolve-license.js';
import { StaticLicenseStep } from '../../domain/resolution/static-license.step.js';
import type { Clock } from '../../ports/clock.port.js';
import type { LicenseCache } from '../../ports/license-cache.port.js';
import type { LicenseTelemetry } from '../../ports/license-telemetry.port.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import type { Logger } from '../../ports/logger.port.js';
import type { TokenBackend } from '../../ports/token-backend.port.js';
import type { TrustedTime } from '../../ports/trusted-time.port.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import { TYPES } from '../../ports/types.js';
import { ConditionLog } from '../../domain/logging/condition-log.js';
import type { AgentConfig } from '../config.js';
import { AGENT_VERSION } from '../version.js';

/** The domain: license state and use cases, built on whichever adapters are bound to the ports. */
export function licenseModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.LicenseState)
      .toResolvedValue((clock: Clock) => new LicenseState(clock.now()), [TYPES.Clock])
      .inSingletonScope();
    bind(TYPES.GraceWarnings)
      .toResolvedValue(
        (clock: Clock, logger: Logger) => new GraceWarnings(clock, logger),
        [TYPES.Clock, TYPES.Logger],
      )
      .inSingletonScope();
    bind(TYPES.ResolveLicense)
      .toResolvedValue(
        (
          config: AgentConfig,
          instanceId: string,
          verifier: LicenseVerifier,
          backend: TokenBackend,
          cache: LicenseCache,
          state: LicenseState,
          graceWarnings: GraceWarnings,
          clock: Clock,
          logger: Logger,
          trustedTime: TrustedTime,
          gate: TextGate,
        ) =>
          new ResolveLicense(
            new StaticLicenseStep(config.staticLicenseJwt, verifier, logger, gate),
            new BackendLicenseStep(
              { apiKey: config.apiKey, instanceId, agentVersion: AGENT_VERSION },
              backend,
              verifier,
              cache,
              trustedTime,
              logger,
              gate,
              new ConditionLog(logger, clock),
            ),
            new CachedLicenseStep(cache, verifier, trustedTime, logger, gate),
            state,
            graceWarnings,
            trustedTime,
            clock,
            logger,
            { apiKeyConfigured: config.apiKey !== null, gracePeriodMs: config.gracePeriodMs },
          ),
        [
          TYPES.Config,
          TYPES.InstanceId,
          TYPES.LicenseVerifier,
          TYPES.TokenBackend,
          TYPES.LicenseCache,
          TYPES.LicenseState,
          TYPES.GraceWarnings,
          TYPES.Clock,
          TYPES.Logger,
          TYPES.TrustedTime,
          TYPES.TextGate,
        ],
      )
      .inSingletonScope();
    bind(TYPES.RefreshLicense)
      .toResolvedValue(
        (resolve: ResolveLicense, state: LicenseState, clock: Clock, telemetry: LicenseTelemetry, logger: Logger) =>
          new RefreshLicense(resolve, state, clock, telemetry, logger),
        [TYPES.ResolveLicense, TYPES.LicenseState, TYPES.Clock, TYPES.LicenseTelemetry, TYPES.Logger],
      )
      .inSingletonScope();
    bind(TYPES.ForceRefresh)
      .toResolvedValue(
        (config: AgentConfig, refresh: RefreshLicense, clock: Clock) =>
          new ForceRefresh(refresh, clock, {
            apiKeyConfigured: config.apiKey !== null,
            minIntervalMs: config.adminRefreshMinIntervalMs,
          }),
        [TYPES.Config, TYPES.RefreshLicense, TYPES.Clock],
      )
      .inSingletonScope();
    bind(TYPES.ExpireLicense)
      .toResolvedValue(
        (state: LicenseState, clock: Clock, logger: Logger) => new ExpireLicense(state, clock, logger),
        [TYPES.LicenseState, TYPES.Clock, TYPES.Logger],
      )
      .inSingletonScope();
  });
}
