import { ContainerModule } from 'inversify';
import { HttpTokenBackend } from '../../adapters/http/http-token-backend.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import type { Clock } from '../../ports/clock.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';

/** The license backend over HTTP(S) with node-fetch. */
export function httpBackendModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.TokenBackend)
      .toResolvedValue(
        (config: AgentConfig, clock: Clock, gate: TextGate) =>
          new HttpTokenBackend(
            { baseUrl: config.backendUrl, connectTimeoutMs: config.connectTimeoutMs, readTimeoutMs: config.readTimeoutMs },
            clock,
            gate,
          ),
        [TYPES.Config, TYPES.Clock, TYPES.TextGate],
      )
      .inSingletonScope();
  });
}
