import { ContainerModule } from 'inversify';
import { NodeTimers } from '../../adapters/system/node-timers.js';
import { SystemClock } from '../../adapters/system/system-clock.js';
import type { Logger } from '../../ports/logger.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';

/** Configuration and logger: what every other module builds on. */
export function coreModule(config: AgentConfig, logger: Logger): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<AgentConfig>(TYPES.Config).toConstantValue(config);
    bind<Logger>(TYPES.Logger).toConstantValue(logger);
  });
}

/** Time from the system: the clock and Node's timers. */
export function systemModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.Clock).toConstantValue(new SystemClock());
    bind(TYPES.Timers).toConstantValue(new NodeTimers());
  });
}
