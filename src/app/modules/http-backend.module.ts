import { ContainerModule } from 'inversify';
import { HttpTokenBackend } from '../../adapters/http/http-token-backend.js';
import { proxyRouteFor, type ProxyRoute } from '../../adapters/http/proxy-route.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import type { Clock } from '../../ports/clock.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';

/** The license backend over HTTP(S) with node-fetch, through the configured proxy if any. */
export function httpBackendModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.TokenBackend)
      .toResolvedValue(
        (config: AgentConfig, clock: Clock, gate: TextGate) =>
          new HttpTokenBackend(
            {
              baseUrl: config.backendUrl,
              connectTimeoutMs: config.connectTimeoutMs,
              readTimeoutMs: config.readTimeoutMs,
              proxy: backendProxy(config),
            },
            clock,
            gate,
          ),
        [TYPES.Config, TYPES.Clock, TYPES.TextGate],
      )
      .inSingletonScope();
  });
}

/** The proxy that requests to the configured backend go through (proxy-from-env decides); null: direct. */
export function backendProxy(config: AgentConfig): ProxyRoute | null {
  return proxyRouteFor(config.backendUrl, config.proxy);
}
