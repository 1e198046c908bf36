import { ContainerModule, type ServiceIdentifier } from 'inversify';
import { NodeTimers } from '../../adapters/system/node-timers.js';
import { SystemClock } from '../../adapters/system/system-clock.js';
import { UsageQuotas } from '../../domain/enforcement/usage-quota.js';
import type { ExpireLicense } from '../../domain/expiry/expire-license.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import { UsageCounters } from '../../domain/telemetry/usage-counters.js';
import type { Clock, MonotonicClock } from '../../ports/clock.port.js';
import type { HighWaterMarkStore } from '../../ports/high-water-mark-store.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';
import { HighWaterClock } from '../high-water-clock.js';

/** The one high-water clock, bound as both `TYPES.Clock` and `TYPES.TrustedTime`. */
export const HIGH_WATER_CLOCK: ServiceIdentifier<HighWaterClock> = Symbol.for('softclient4es.HighWaterClock');

/**
 * Configuration, the text gate, the logger, the clock licenses are judged by (the high-water clock
 * over whatever wall clock the `system` module binds), the usage of each quota, and the usage
 * counters that enforcement and usage feed and the backend module sends (DESIGN §12), whichever
 * modules a host replaces. Not
 * replaceable: this is policy.
 */
export function coreModule(config: AgentConfig, logger: Logger, gate: TextGate): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<AgentConfig>(TYPES.Config).toConstantValue(config);
    bind<Logger>(TYPES.Logger).toConstantValue(logger);
    bind<TextGate>(TYPES.TextGate).toConstantValue(gate);
    const usageCounters = new UsageCounters();
    bind(TYPES.UsageCounters).toConstantValue(usageCounters);
    bind(HIGH_WATER_CLOCK)
      .toResolvedValue(
        async (wallClock: Clock, store: HighWaterMarkStore, monotonic: MonotonicClock | undefined) => {
          const clock = new HighWaterClock(wallClock, store, logger, monotonic);
          await clock.load();
          return clock;
        },
        [TYPES.WallClock, TYPES.HighWaterMarkStore, { serviceIdentifier: TYPES.MonotonicClock, optional: true }],
      )
      .inSingletonScope();
    bind(TYPES.Clock).toService(HIGH_WATER_CLOCK);
    bind(TYPES.TrustedTime).toService(HIGH_WATER_CLOCK);
    // Policy too: one usage per quota and process, judged by the license in force; its changes feed
    // the peaks sent with the token request (when telemetry is on).
    const usageObserver = config.telemetryEnabled ? usageCounters : null;
    bind(TYPES.UsageQuotas)
      .toResolvedValue(
        (expireLicense: ExpireLicense) => new UsageQuotas(() => expireLicense.current().license.quotas, usageObserver),
        [TYPES.ExpireLicense],
      )
      .inSingletonScope();
  });
}

/** Time from the system: the wall clock and Node's timers. */
export function systemModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.WallClock).toConstantValue(new SystemClock());
    bind(TYPES.Timers).toConstantValue(new NodeTimers());
  });
}
