import { ContainerModule } from 'inversify';
import { SystemClock } from '../../adapters/system/system-clock.js';
import type { Logger } from '../../ports/logger.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';

/** Configuration, logger and clock: what every other module builds on. */
export function coreModule(config: AgentConfig, logger: Logger): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<AgentConfig>(TYPES.Config).toConstantValue(config);
    bind<Logger>(TYPES.Logger).toConstantValue(logger);
    bind(TYPES.Clock).toConstantValue(new SystemClock());
  });
}
