import { ContainerModule } from 'inversify';
import { PrometheusLicenseMetrics, type PrometheusMetricsOptions } from '../../adapters/prometheus/prometheus-license-metrics.js';
import type { UsageQuotas } from '../../domain/enforcement/usage-quota.js';
import type { ExpireLicense } from '../../domain/expiry/expire-license.js';
import type { Clock } from '../../ports/clock.port.js';
import type { FleetView } from '../../ports/fleet-membership.port.js';
import type { InstanceIdStore } from '../../ports/instance-id-store.port.js';
import { TYPES } from '../../ports/types.js';
import { periodicRefreshEnabled, type AgentConfig } from '../config.js';
import { HighWaterClock } from '../high-water-clock.js';
import { AGENT_VERSION } from '../version.js';

/**
 * Metrics with prom-client: `TYPES.Metrics` renders them, `TYPES.LicenseTelemetry` feeds them.
 * `options.registry` puts them in a host's registry (see `PrometheusMetricsOptions`).
 */
export function prometheusMetricsModule(options: PrometheusMetricsOptions = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.Metrics)
      .toResolvedValue(
        (
          config: AgentConfig,
          expireLicense: ExpireLicense,
          clock: Clock,
          usage: UsageQuotas,
          fleet: FleetView | undefined,
          instanceIds: InstanceIdStore | undefined,
        ) =>
          new PrometheusLicenseMetrics(
            {
              current: () => expireLicense.current(),
              clock,
              apiKeyConfigured: config.apiKey !== null,
              refreshEnabled: periodicRefreshEnabled(config),
              clockSuspect: () => clock instanceof HighWaterClock && clock.suspect,
              version: AGENT_VERSION,
              fleet: fleet ?? null,
              instanceCloned: () => instanceIds?.cloned?.() ?? false,
              usage: () => usage.report(),
              enforcementMode: config.enforcementMode,
            },
            options,
          ),
        [
          TYPES.Config,
          TYPES.ExpireLicense,
          TYPES.Clock,
          TYPES.UsageQuotas,
          { serviceIdentifier: TYPES.Fleet, optional: true },
          { serviceIdentifier: TYPES.InstanceIdStore, optional: true },
        ],
      )
      .inSingletonScope();
    bind(TYPES.LicenseTelemetry).toService(TYPES.Metrics);
  });
}
