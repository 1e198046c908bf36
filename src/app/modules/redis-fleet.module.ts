import { ContainerModule, type ServiceIdentifier } from 'inversify';
import { RedisFleetConnection } from '../../adapters/redis/redis-fleet-connection.js';
import { RedisFleetMembership } from '../../adapters/redis/redis-fleet-membership.js';
import { RedisInstanceIdStore } from '../../adapters/redis/redis-instance-id-store.js';
import { RedisLeaseCoordinator } from '../../adapters/redis/redis-lease-coordinator.js';
import { RedisRefreshRelay } from '../../adapters/redis/redis-refresh-relay.js';
import { RedisSharedLicenseStore } from '../../adapters/redis/redis-shared-license-store.js';
import { AdoptSharedLicense } from '../../domain/fleet/adopt-shared-license.js';
import type { LicenseState } from '../../domain/model/license-state.js';
import { staticJwtOf, type CurrentLicenseSources } from '../../domain/model/license-sources.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import type { RefreshLicense } from '../../domain/refresh/refresh-license.js';
import { refreshSchedulePolicy } from '../../domain/refresh/refresh-schedule.js';
import type { ResolveLicense } from '../../domain/resolution/resolve-license.js';
import type { Clock } from '../../ports/clock.port.js';
import type { FleetMembership } from '../../ports/fleet-membership.port.js';
import type { InstanceIdStore } from '../../ports/instance-id-store.port.js';
import type { LeaseCoordinator } from '../../ports/lease-coordinator.port.js';
import type { LicenseCache } from '../../ports/license-cache.port.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import type { Logger } from '../../ports/logger.port.js';
import type { RefreshRelay } from '../../ports/refresh-relay.port.js';
import type { SharedLicenseStore } from '../../ports/shared-license-store.port.js';
import type { Timers } from '../../ports/timers.port.js';
import type { TrustedTime } from '../../ports/trusted-time.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig, FleetConfig } from '../config.js';
import { FleetLicenseCache } from '../fleet/fleet-license-cache.js';
import { FleetMember } from '../fleet/fleet-member.js';
import { FleetState } from '../fleet/fleet-state.js';
import { FleetTokenBackend } from '../fleet/fleet-token-backend.js';

const CONNECTION: ServiceIdentifier<RedisFleetConnection> = Symbol('softclient4es.fleet.RedisConnection');
const STATE: ServiceIdentifier<FleetState> = Symbol('softclient4es.fleet.State');
/** The member itself: started and stopped by the agent. */
export const FLEET_MEMBER: ServiceIdentifier<FleetMember> = Symbol.for('softclient4es.fleet.Member');

/** A Redis command (and connection attempt) never takes longer than this. */
export function fleetCommandTimeoutMs(config: AgentConfig, fleet: FleetConfig): number {
  return Math.max(100, Math.min(config.connectTimeoutMs, fleet.leaseTtlMs / 4, 2_000));
}

/**
 * Fleet mode on Redis (DESIGN §11), loaded only when `SOFTCLIENT4ES_FLEET_REDIS_URL` is set: the
 * ports (lease, shared license, refresh relay, membership) on one Redis connection, the fleet's
 * instance id over the local one, and the token backend and license cache of a fleet member over
 * whichever ones the other modules bind.
 */
export function redisFleetModule(): ContainerModule {
  return new ContainerModule(({ bind, onActivation }) => {
    const fleetOf = (config: AgentConfig): FleetConfig => {
      if (config.fleet === null) throw new TypeError('the fleet module needs SOFTCLIENT4ES_FLEET_REDIS_URL');
      return config.fleet;
    };
    bind(CONNECTION)
      .toResolvedValue(
        (config: AgentConfig, logger: Logger, gate: TextGate) => {
          const fleet = fleetOf(config);
          return new RedisFleetConnection({ url: fleet.redisUrl, fleetId: fleet.id, commandTimeoutMs: fleetCommandTimeoutMs(config, fleet) }, logger, gate);
        },
        [TYPES.Config, TYPES.Logger, TYPES.TextGate],
      )
      .inSingletonScope();
    bind(TYPES.LeaseCoordinator)
      .toResolvedValue((config: AgentConfig, connection: RedisFleetConnection) => new RedisLeaseCoordinator(connection, fleetOf(config).leaseTtlMs), [TYPES.Config, CONNECTION])
      .inSingletonScope();
    bind(TYPES.SharedLicenseStore).toResolvedValue((connection: RedisFleetConnection) => new RedisSharedLicenseStore(connection), [CONNECTION]).inSingletonScope();
    bind(TYPES.RefreshRelay).toResolvedValue((connection: RedisFleetConnection) => new RedisRefreshRelay(connection), [CONNECTION]).inSingletonScope();
    bind(TYPES.FleetMembership).toResolvedValue((connection: RedisFleetConnection) => new RedisFleetMembership(connection), [CONNECTION]).inSingletonScope();
    bind(STATE)
      .toResolvedValue(
        (config: AgentConfig, store: SharedLicenseStore, clock: Clock, logger: Logger, gate: TextGate) => new FleetState(fleetOf(config).id, store, clock, logger, gate),
        [TYPES.Config, TYPES.SharedLicenseStore, TYPES.Clock, TYPES.Logger, TYPES.TextGate],
      )
      .inSingletonScope();
    bind(TYPES.Fleet).toService(STATE);

    onActivation(TYPES.InstanceIdStore, async (context, local) => new RedisInstanceIdStore(local, await context.getAsync(CONNECTION), await context.getAsync(TYPES.Logger)));
    onActivation(TYPES.TokenBackend, async (context, backend) => {
      const config = await context.getAsync<AgentConfig>(TYPES.Config);
      return new FleetTokenBackend(
        backend,
        await context.getAsync(STATE),
        await context.getAsync(TYPES.RefreshRelay),
        await context.getAsync(TYPES.SharedLicenseStore),
        config.connectTimeoutMs + config.readTimeoutMs + 2_000,
      );
    });
    onActivation(TYPES.LicenseCache, async (context, disk) => new FleetLicenseCache(disk, await context.getAsync(TYPES.SharedLicenseStore), await context.getAsync(STATE)));

    bind(TYPES.AdoptSharedLicense)
      .toResolvedValue(
        (store: SharedLicenseStore, verifier: LicenseVerifier, trustedTime: TrustedTime, state: LicenseState, cache: LicenseCache, clock: Clock, logger: Logger, gate: TextGate) =>
          new AdoptSharedLicense(store, verifier, trustedTime, state, cache, clock, logger, gate),
        [TYPES.SharedLicenseStore, TYPES.LicenseVerifier, TYPES.TrustedTime, TYPES.LicenseState, TYPES.LicenseCache, TYPES.Clock, TYPES.Logger, TYPES.TextGate],
      )
      .inSingletonScope();
    bind(FLEET_MEMBER)
      .toResolvedValue(
        async (
          config: AgentConfig,
          connection: RedisFleetConnection,
          fleet: FleetState,
          adopt: AdoptSharedLicense,
          refresh: RefreshLicense,
          resolve: ResolveLicense,
          state: LicenseState,
          clock: Clock,
          timers: Timers,
          logger: Logger,
          gate: TextGate,
          instanceIds: InstanceIdStore,
          lease: LeaseCoordinator,
          store: SharedLicenseStore,
          relay: RefreshRelay,
          membership: FleetMembership,
          sources: CurrentLicenseSources,
        ) => {
          const rejoin = instanceIds instanceof RedisInstanceIdStore ? () => instanceIds.rejoin() : async () => true;
          return new FleetMember(
            { lease, store, relay, membership, rejoin, close: () => connection.close() },
            fleet,
            adopt,
            refresh,
            state,
            () => resolve.cacheWritesSettled(),
            clock,
            timers,
            logger,
            gate,
            {
              leaseTtlMs: fleetOf(config).leaseTtlMs,
              policy: refreshSchedulePolicy(config.refreshIntervalMs),
              // configured or installed (PUT /admin/license): a static license ranks before the fleet's
              staticLicenseConfigured: staticJwtOf(sources.current()) !== null,
            },
          );
        },
        [
          TYPES.Config,
          CONNECTION,
          STATE,
          TYPES.AdoptSharedLicense,
          TYPES.RefreshLicense,
          TYPES.ResolveLicense,
          TYPES.LicenseState,
          TYPES.Clock,
          TYPES.Timers,
          TYPES.Logger,
          TYPES.TextGate,
          TYPES.InstanceIdStore,
          TYPES.LeaseCoordinator,
          TYPES.SharedLicenseStore,
          TYPES.RefreshRelay,
          TYPES.FleetMembership,
          TYPES.LicenseSources,
        ],
      )
      .inSingletonScope();
  });
}
