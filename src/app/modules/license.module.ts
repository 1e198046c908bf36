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
import { CurrentLicenseSources } from '../../domain/model/license-sources.js';
import type { InstalledLicenseStore } from '../../ports/installed-license-store.port.js';
import type { AgentConfig } from '../config.js';
import { AGENT_VERSION } from '../version.js';
import { isUnsafeDirectory } from '../../domain/model/errors.js';

/** The domain: license state and use cases, built on whichever adapters are bound to the ports. */
export function licenseModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.LicenseState)
      .toResolvedValue((clock: Clock) => new LicenseState(clock.now()), [TYPES.Clock])
      .inSingletonScope();
    bind(TYPES.LicenseSources)
      .toResolvedValue(
        async (config: AgentConfig, logger: Logger, store: InstalledLicenseStore | undefined) =>
          new CurrentLicenseSources({
            staticLicenseJwt: config.staticLicenseJwt,
            apiKey: config.apiKey,
            installedLicenseJwt: await installedLicense(config, logger, store),
          }),
        [TYPES.Config, TYPES.Logger, { serviceIdentifier: TYPES.InstalledLicenseStore, optional: true }],
      )
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
          sources: CurrentLicenseSources,
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
            new StaticLicenseStep(sources, verifier, logger, gate),
            new BackendLicenseStep(
              { instanceId, agentVersion: AGENT_VERSION },
              sources,
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
          TYPES.LicenseSources,
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

/**
 * The license installed with `PUT /admin/license`, read at start-up. A configured static JWT
 * (`SOFTCLIENT4ES_LICENSE_KEY`) takes precedence: the installed one is then not used (WARN, the
 * file stays). An unreadable store is a WARN, never a failed start.
 */
async function installedLicense(config: AgentConfig, logger: Logger, store: InstalledLicenseStore | undefined): Promise<string | null> {
  if (store === undefined) return null;
  let jwt: string | null;
  try {
    jwt = await store.load();
  } catch (error) {
    logger[isUnsafeDirectory(error) ? 'debug' : 'warn'](`Installed license not read: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
  if (jwt !== null && config.staticLicenseJwt !== null) {
    logger.warn('Installed license (static-license.jwt) not used: SOFTCLIENT4ES_LICENSE_KEY is configured and takes precedence');
  }
  return jwt;
}
