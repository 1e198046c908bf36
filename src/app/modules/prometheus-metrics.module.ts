import { ContainerModule } from 'inversify';
import { PrometheusLicenseMetrics } from '../../adapters/prometheus/prometheus-license-metrics.js';
import type { ExpireLicense } from '../../domain/expiry/expire-license.js';
import type { Clock } from '../../ports/clock.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';
import { HighWaterClock } from '../high-water-clock.js';

/** Metrics with prom-client: `TYPES.Metrics` renders them, `TYPES.LicenseTelemetry` feeds them. */
export function prometheusMetricsModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.Metrics)
      .toResolvedValue(
        (config: AgentConfig, expireLicense: ExpireLicense, clock: Clock) =>
          new PrometheusLicenseMetrics({
            current: () => expireLicense.current(),
            clock,
            apiKeyConfigured: config.apiKey !== null,
            clockSuspect: () => clock instanceof HighWaterClock && clock.suspect,
          }),
        [TYPES.Config, TYPES.ExpireLicense, TYPES.Clock],
      )
      .inSingletonScope();
    bind(TYPES.LicenseTelemetry).toService(TYPES.Metrics);
  });
}
