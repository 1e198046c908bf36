import { ContainerModule } from 'inversify';
import { HttpTokenBackend } from '../../adapters/http/http-token-backend.js';
import { proxyRouteFor, type ProxyRoute } from '../../adapters/http/proxy-route.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import type { UsageCounters } from '../../domain/telemetry/usage-counters.js';
import type { Clock, MonotonicClock } from '../../ports/clock.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';
import { PERFORMANCE_CLOCK } from '../high-water-clock.js';
import { UsageReportingTokenBackend } from '../telemetry/usage-reporting-token-backend.js';

/**
 * The license backend over HTTP(S) with node-fetch, through the configured proxy if any, sending
 * the usage counters with each request unless `SOFTCLIENT4ES_TELEMETRY_ENABLED=false` (DESIGN §12).
 */
export function httpBackendModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.TokenBackend)
      .toResolvedValue(
        (config: AgentConfig, clock: Clock, gate: TextGate, counters: UsageCounters, monotonic: MonotonicClock | undefined) => {
          const http = new HttpTokenBackend(
            {
              baseUrl: config.backendUrl,
              connectTimeoutMs: config.connectTimeoutMs,
              readTimeoutMs: config.readTimeoutMs,
              proxy: backendProxy(config),
            },
            clock,
            gate,
          );
          if (!config.telemetryEnabled) return http;
          return new UsageReportingTokenBackend(http, counters, { platform: process.platform, clock: monotonic ?? PERFORMANCE_CLOCK });
        },
        [TYPES.Config, TYPES.Clock, TYPES.TextGate, TYPES.UsageCounters, { serviceIdentifier: TYPES.MonotonicClock, optional: true }],
      )
      .inSingletonScope();
  });
}

/** The proxy that requests to the configured backend go through (proxy-from-env decides); null: direct. */
export function backendProxy(config: AgentConfig): ProxyRoute | null {
  return proxyRouteFor(config.backendUrl, config.proxy);
}
