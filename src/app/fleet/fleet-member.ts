import type { AdoptionOutcome, AdoptSharedLicense } from '../../domain/fleet/adopt-shared-license.js';
import { describeFailure } from '../../domain/model/errors.js';
import type { LicenseState } from '../../domain/model/license-state.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import type { RefreshLicense } from '../../domain/refresh/refresh-license.js';
import { delayAfterTakeover, type RefreshSchedulePolicy } from '../../domain/refresh/refresh-schedule.js';
import type { Clock } from '../../ports/clock.port.js';
import type { FleetMembership, FleetRole, FleetStatus } from '../../ports/fleet-membership.port.js';
import type { LeaseCoordinator } from '../../ports/lease-coordinator.port.js';
import type { Logger } from '../../ports/logger.port.js';
import type { RefreshRelay, RelayedRefresh } from '../../ports/refresh-relay.port.js';
import type { SharedLicenseStore } from '../../ports/shared-license-store.port.js';
import type { TimerHandle, Timers } from '../../ports/timers.port.js';
import type { FleetState } from './fleet-state.js';

export interface FleetPorts {
  readonly lease: LeaseCoordinator;
  readonly store: SharedLicenseStore;
  readonly relay: RefreshRelay;
  readonly membership: FleetMembership;
  /** True when this process runs on the fleet's instance id (claiming it for a fleet that has none). */
  readonly rejoin: () => Promise<boolean>;
  /** Closes the connections to the store. */
  readonly close: () => void;
}

export interface FleetMemberSettings {
  readonly leaseTtlMs: number;
  readonly policy: RefreshSchedulePolicy;
  /** A static license ranks before the fleet's: such a member resolves as usual at start-up. */
  readonly staticLicenseConfigured: boolean;
}

/** What the member pauses while a follower and resumes when it refreshes again. */
export interface PeriodicRefresh {
  pause(): void;
  resume(delayMs: number): void;
}

/**
 * One member of a fleet. It beats four times per lease TTL: a heartbeat, then the lease, taken or
 * renewed (leader) or held by another (follower: it also checks the fleet's license). The leader
 * refreshes on its schedule and for forwarded requests; a follower's periodic refresh is paused and
 * it adopts each license the leader publishes. When Redis fails, the member is standalone — an agent
 * on its own — until a beat succeeds again.
 */
export class FleetMember {
  #timer: TimerHandle | null = null;
  #stopped = false;
  #down = false;
  readonly #subscriptions: (() => void)[] = [];
  #syncing: Promise<void> | null = null;
  #syncAgain = false;
  #periodic: PeriodicRefresh | null = null;

  constructor(
    private readonly ports: FleetPorts,
    private readonly fleet: FleetState,
    private readonly adopt: AdoptSharedLicense,
    private readonly refresh: RefreshLicense,
    private readonly state: LicenseState,
    /** Settles once what the last refresh saved is written (published, for the leader). */
    private readonly cacheWritesSettled: () => Promise<void>,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly logger: Logger,
    private readonly gate: TextGate,
    private readonly settings: FleetMemberSettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** The periodic refresh to pause while this member follows. */
  attach(periodic: PeriodicRefresh | null): void {
    this.#periodic = periodic;
  }

  status(): FleetStatus {
    return this.fleet.status();
  }

  /**
   * Joins the fleet and resolves the license for the first time: a follower adopts the fleet's
   * license when there is one it accepts; otherwise (leader, standalone, nothing to adopt) the usual
   * resolution runs — for a follower, carried out by the leader.
   */
  async start(): Promise<void> {
    this.#subscriptions.push(
      this.ports.store.onPublished(() => this.#sync()),
      this.ports.relay.serve(() => this.fleet.role === 'leader', () => this.#refreshForFleet()),
    );
    this.#plan(await this.#beat());
    if (this.fleet.role === 'follower' && !this.settings.staticLicenseConfigured && (await this.#adoptNow()) === 'adopted') return;
    await this.refresh.execute();
  }

  /** Leaves the fleet: the lease is released (the next member takes over at once), the heartbeat withdrawn. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.cancel();
    for (const unsubscribe of this.#subscriptions) unsubscribe();
    const wasLeader = this.fleet.role === 'leader';
    this.fleet.role = 'standalone';
    await Promise.allSettled([wasLeader ? this.ports.lease.release() : null, this.ports.membership.leave()]);
    this.ports.close();
  }

  /** One beat; returns when the next one is due. */
  async #beat(): Promise<number> {
    const interval = this.settings.leaseTtlMs / 4;
    try {
      const members = await this.ports.membership.heartbeat(3 * interval);
      if (!(await this.ports.rejoin())) {
        this.#become('standalone', null, members);
        return interval;
      }
      const lease = await this.ports.lease.acquire();
      this.#become(lease.held ? 'leader' : 'follower', lease.held ? lease.fence : null, members);
      if (lease.held) return interval;
      this.#sync(); // also catches a publication this member missed
      return Math.min(interval, Math.max(50, lease.expiresInMs + 20)); // try again as the lease runs out
    } catch (error) {
      this.#lost(error);
      return interval;
    }
  }

  #plan(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.timers.schedule(() => void this.#beat().then((next) => this.#plan(next)), delayMs);
  }

  #become(role: FleetRole, fence: number | null, members: number): void {
    const before = this.fleet.role;
    Object.assign(this.fleet, { connected: true, role, fence, members });
    if (role === 'leader') this.fleet.lastSyncAt = this.clock.now();
    if (this.#down) {
      this.#down = false;
      this.logger.info('Fleet store (Redis) reachable again: rejoining the fleet', { fleet: this.fleet.id });
    }
    if (role !== before) this.#changedRole(before, role);
  }

  #lost(error: unknown): void {
    const before = this.fleet.role;
    Object.assign(this.fleet, { connected: false, role: 'standalone', fence: null });
    if (!this.#down) {
      this.#down = true;
      const { code, message } = describeFailure(error, this.gate);
      this.logger.warn(`Fleet store (Redis) unreachable: running standalone (own backend calls, disk cache) until it answers again: ${message}`, {
        fleet: this.fleet.id,
        code,
      });
    }
    if (before !== 'standalone') this.#changedRole(before, 'standalone');
  }

  #changedRole(before: FleetRole, after: FleetRole): void {
    this.logger.info(`Fleet role: ${after}`, { fleet: this.fleet.id, role: after, previous_role: before, fence: this.fleet.fence });
    if (after === 'follower') {
      this.#periodic?.pause();
      this.#sync();
    } else if (before === 'follower') {
      this.#periodic?.resume(delayAfterTakeover(this.state.current(), this.clock.now(), this.settings.policy, this.random));
    }
  }

  /** Adopts the fleet's license now, and again after that if asked meanwhile (followers only). */
  #sync(): void {
    if (this.fleet.role !== 'follower' || this.#stopped) return;
    if (this.#syncing !== null) {
      this.#syncAgain = true;
      return;
    }
    this.#syncing = (async () => {
      do {
        this.#syncAgain = false;
        await this.#adoptNow();
      } while (this.#syncAgain && this.fleet.role === 'follower');
    })().finally(() => {
      this.#syncing = null;
    });
  }

  async #adoptNow(): Promise<AdoptionOutcome> {
    const outcome = await this.adopt.execute();
    if (outcome === 'adopted' || outcome === 'unchanged') this.fleet.lastSyncAt = this.clock.now();
    return outcome;
  }

  /** A refresh asked by another member: this leader's own (shared when one runs), published before the answer. */
  async #refreshForFleet(): Promise<RelayedRefresh> {
    this.logger.info('Refreshing for another fleet member', { fleet: this.fleet.id });
    const outcome = await this.refresh.execute();
    await this.cacheWritesSettled();
    return { status: outcome.status, code: outcome.failure?.code ?? null, message: outcome.failure?.message ?? null };
  }
}
