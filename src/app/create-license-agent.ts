import 'reflect-metadata';
import { Container, type ContainerModule, type ServiceIdentifier } from 'inversify';
import { ExpressEnforcement } from '../adapters/express/enforcement.js';
import type { MetricsExposition } from '../adapters/express/metrics-handler.js';
import { PinoLogger } from '../adapters/pino/pino-logger.js';
import type { ExpireLicense } from '../domain/expiry/expire-license.js';
import type { GraceWarnings } from '../domain/expiry/grace-warnings.js';
import type { LicenseState } from '../domain/model/license-state.js';
import type { ForceRefresh } from '../domain/refresh/force-refresh.js';
import type { RefreshLicense } from '../domain/refresh/refresh-license.js';
import type { ResolveLicense } from '../domain/resolution/resolve-license.js';
import { refreshSchedulePolicy } from '../domain/refresh/refresh-schedule.js';
import type { LicenseTelemetry } from '../ports/license-telemetry.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { Timers } from '../ports/timers.port.js';
import { TYPES } from '../ports/types.js';
import type { PrometheusMetricsOptions } from '../adapters/prometheus/prometheus-license-metrics.js';
import { periodicRefreshEnabled, textGateFor, type AgentConfig } from './config.js';
import { ExpiryWatch } from './expiry-watch.js';
import { GatedLogger } from './gated-logger.js';
import { LicenseAgent } from './license-agent.js';
import { coreModule, HIGH_WATER_CLOCK, systemModule } from './modules/core.module.js';
import { backendProxy, httpBackendModule } from './modules/http-backend.module.js';
import { joseVerifierModule } from './modules/jose-verifier.module.js';
import { licenseModule } from './modules/license.module.js';
import { lowdbStorageModule } from './modules/lowdb-storage.module.js';
import { prometheusMetricsModule } from './modules/prometheus-metrics.module.js';
import { RefreshScheduler } from './refresh-scheduler.js';
import { CountingLicenseTelemetry } from './telemetry/counting-license-telemetry.js';
import { AGENT_VERSION } from './version.js';
import { ConfigurationReload } from './reload/configuration-reload.js';
import { InstallLicense } from '../domain/installation/install-license.js';
import { RemoveInstalledLicense } from '../domain/installation/remove-installed-license.js';
import type { InstanceIdStore } from '../ports/instance-id-store.port.js';

/** The replaceable parts of the agent, one container module each: the plugin points. */
export interface AgentModules {
  /** Binds `TYPES.WallClock` and `TYPES.Timers` (licenses are judged by a high-water clock over the wall clock). */
  readonly system: ContainerModule;
  /** Binds `TYPES.LicenseVerifier`. */
  readonly verifier: ContainerModule;
  /** Binds `TYPES.TokenBackend`. */
  readonly backend: ContainerModule;
  /** Binds `TYPES.LicenseCache`, `TYPES.HighWaterMarkStore`, `TYPES.InstanceIdStore`, `TYPES.InstanceId`, `TYPES.AdminToken`. */
  readonly storage: ContainerModule;
  /** Binds `TYPES.Metrics` (a `MetricsExposition`) and `TYPES.LicenseTelemetry`. */
  readonly metrics: ContainerModule;
  /** Binds the domain: license state and use cases. */
  readonly license: ContainerModule;
}

export interface LicenseAgentOptions {
  /** Where the agent logs; by default pino JSON lines on stdout with secrets scrubbed. */
  readonly logger?: Logger;
  /** Replacements for default modules, by name (for example another `backend`). */
  readonly modules?: Partial<AgentModules>;
  /** Sent in 402 answers so that clients can point users to an upgrade; `SOFTCLIENT4ES_UPGRADE_URL` otherwise. */
  readonly upgradeUrl?: string;
  /**
   * Options of the default metrics module: `registry`, a prom-client registry of the host's to add
   * the agent's metrics to (without prom-client's default process metrics unless `processMetrics`
   * is true); `processMetrics: false` leaves them out of the agent's own registry. Not allowed
   * together with `modules.metrics`, which replaces that module.
   */
  readonly metrics?: PrometheusMetricsOptions;
}

// Defined next to the configuration (the CLI needs them without the composition root); kept here too.
export { configSecrets, textGateFor } from './config.js';

export function defaultModules(options: Pick<LicenseAgentOptions, 'metrics'> = {}): AgentModules {
  return {
    system: systemModule(),
    verifier: joseVerifierModule(),
    backend: httpBackendModule(),
    storage: lowdbStorageModule(),
    metrics: prometheusMetricsModule(options.metrics),
    license: licenseModule(),
  };
}

/**
 * Composition root: builds the agent from its container modules. Rejects only when the
 * configuration itself is unusable (an unreadable trusted-keys file, contradictory options, a host
 * registry that already holds the agent's metric names); license problems are logged.
 */
export async function createLicenseAgent(config: AgentConfig, options: LicenseAgentOptions = {}): Promise<LicenseAgent> {
  const gate = textGateFor(config);
  const given = options.logger ?? new PinoLogger({ level: config.logLevel, gate });
  const logger = new GatedLogger(given, gate);
  if (options.metrics !== undefined && options.modules?.metrics !== undefined) {
    throw new TypeError('createLicenseAgent: options.metrics configures the default metrics module; it cannot be combined with modules.metrics');
  }
  const modules = { ...defaultModules(options), ...options.modules };
  // Fleet mode only: a standalone agent never loads the fleet code (nor the Redis client).
  const fleetModule = config.fleet === null ? null : await import('./modules/redis-fleet.module.js');
  const container = new Container();
  // loadAsync: a module's callback may return what `bind(...)` returns, which inversify treats as async.
  await container.loadAsync(coreModule(config, logger, gate), ...Object.values(modules), ...(fleetModule === null ? [] : [fleetModule.redisFleetModule()]));
  const get = <T>(id: ServiceIdentifier<T>) => container.getAsync<T>(id);

  const clock = await get(HIGH_WATER_CLOCK);
  const timers = await get<Timers>(TYPES.Timers);
  const state = await get<LicenseState>(TYPES.LicenseState);
  const refreshLicense = await get<RefreshLicense>(TYPES.RefreshLicense);
  const scheduler = periodicRefreshEnabled(config)
    ? new RefreshScheduler(refreshLicense, clock, timers, refreshSchedulePolicy(config.refreshIntervalMs), logger)
    : null;
  const fleet = fleetModule === null ? null : await get(fleetModule.FLEET_MEMBER);
  fleet?.attach(scheduler);
  const expireLicense = await get<ExpireLicense>(TYPES.ExpireLicense);
  const expiryWatch = new ExpiryWatch(state, expireLicense, clock, timers, () =>
    scheduler?.retrySoon(),
  );
  // Denials feed the counters sent with the token request, unless telemetry is off (DESIGN §12); usage
  // changes reach them through UsageQuotas (core module).
  const usageCounters = config.telemetryEnabled ? await get(TYPES.UsageCounters) : null;
  const metricsTelemetry = await get<LicenseTelemetry>(TYPES.LicenseTelemetry);
  const telemetry = usageCounters === null ? metricsTelemetry : new CountingLicenseTelemetry(metricsTelemetry, usageCounters);
  const usage = await get(TYPES.UsageQuotas);
  const enforcement = new ExpressEnforcement({
    snapshot: () => state.current(),
    currentAt: (nowMs) => expireLicense.current(nowMs),
    clock,
    graceWarnings: await get<GraceWarnings>(TYPES.GraceWarnings),
    telemetry,
    upgradeUrl: options.upgradeUrl ?? config.upgradeUrl,
    usage,
    mode: config.enforcementMode,
    logger,
  });

  const addSecret = (secret: string) => {
    gate.addSecret(secret);
    if (given instanceof PinoLogger) given.addSecret(secret);
  };
  const adminToken = await get<string | null>(TYPES.AdminToken);
  if (adminToken !== null) addSecret(adminToken);

  const verifier = await get(TYPES.LicenseVerifier);
  const sources = await get(TYPES.LicenseSources);
  const installedStore = container.isBound(TYPES.InstalledLicenseStore) ? await get(TYPES.InstalledLicenseStore) : null;
  const instanceIds = await get<InstanceIdStore>(TYPES.InstanceIdStore);
  const proxy = gate.passOptional(backendProxy(config)?.host);
  logger.info(`SoftClient4ES license agent ${AGENT_VERSION} starting`, {
    version: AGENT_VERSION,
    backend_host: config.backendUrl.host,
    proxy,
    cache_dir: config.cacheDir,
    refresh: scheduler === null ? 'off' : `every ${config.refreshIntervalMs / 1000} s`,
    grace_period_days: config.gracePeriodMs / 86_400_000, // the operator's bound; each license may shorten it
    trusted_key_ids: verifier.trustedKeyIds ?? null,
    api_key_configured: config.apiKey !== null,
    static_license_configured: config.staticLicenseJwt !== null,
    enforcement_mode: config.enforcementMode,
  });

  return new LicenseAgent({
    config,
    logger,
    clock,
    state,
    expireLicense,
    refreshLicense,
    fleet,
    forceRefresh: await get<ForceRefresh>(TYPES.ForceRefresh),
    scheduler,
    expiryWatch,
    enforcement,
    usage,
    telemetry,
    metrics: await get<MetricsExposition>(TYPES.Metrics),
    instanceId: await get<string>(TYPES.InstanceId),
    proxy,
    reload: new ConfigurationReload({ config, sources, verifier, refresh: refreshLicense, adminToken, addSecret, gate, clock, logger }),
    installLicense: installedStore === null ? null : new InstallLicense(sources, verifier, installedStore, refreshLicense, logger, gate),
    removeInstalledLicense: installedStore === null ? null : new RemoveInstalledLicense(sources, installedStore, refreshLicense, logger, gate),
    gate,
    instanceCloned: () => instanceIds.cloned?.() ?? false,
    licenseChangesSettled: () => sources.exclusive(async () => undefined),
    cacheWritesSettled: async () => (await get<ResolveLicense>(TYPES.ResolveLicense)).cacheWritesSettled(),
  });
}
