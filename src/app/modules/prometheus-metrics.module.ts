import { ContainerModule } from 'inversify';
import { PrometheusLicenseMetrics } from '../../adapters/prometheus/prometheus-license-metrics.js';
import type { LicenseState } from '../../domain/model/license-state.js';
import type { Clock } from '../../ports/clock.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';

/** Metrics with prom-client: `TYPES.Metrics` renders them, `TYPES.LicenseTelemetry` feeds them. */
export function prometheusMetricsModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.Metrics)
      .toResolvedValue(
        (config: AgentConfig, state: LicenseState, clock: Clock) =>
          new PrometheusLicenseMetrics({
            current: () => state.current(),
            clock,
            gracePeriodMs: config.gracePeriodMs,
            apiKeyConfigured: config.apiKey !== null,
          }),
        [TYPES.Config, TYPES.LicenseState, TYPES.Clock],
      )
      .inSingletonScope();
    bind(TYPES.LicenseTelemetry).toService(TYPES.Metrics);
  });
}
