import { describeFailure } from '../../domain/model/errors.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import type { Clock } from '../../ports/clock.port.js';
import type { FleetRole, FleetStatus, FleetView } from '../../ports/fleet-membership.port.js';
import type { Logger } from '../../ports/logger.port.js';
import type { SharedLicenseStore } from '../../ports/shared-license-store.port.js';

/**
 * Where this member stands, as the fleet member's last beat found it: read by the token backend and
 * the license cache (leader or not), by the status and by metrics. Publishing lives here too, so
 * that the cache can publish what the lease holder fetched without depending on the member.
 */
export class FleetState implements FleetView {
  connected = false;
  role: FleetRole = 'standalone';
  /** The lease's fence while this member holds it. */
  fence: number | null = null;
  members = 0;
  lastSyncAt: Date | null = null;

  constructor(
    readonly id: string,
    private readonly store: SharedLicenseStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly gate: TextGate,
  ) {}

  status(): FleetStatus {
    const { id, connected, role, members, lastSyncAt } = this;
    return { id, connected, role, members, lastSyncAt };
  }

  /**
   * The lease holder publishes a license it fetched and verified, with its fence. The store refuses
   * it when a newer holder (higher fence) has written since: this member is deposed, and says so.
   */
  async publish(jwt: string): Promise<void> {
    const { fence } = this;
    if (this.role !== 'leader' || fence === null) return;
    try {
      if (await this.store.publish({ jwt, fence })) {
        this.lastSyncAt = this.clock.now();
      } else {
        this.logger.warn('License not published to the fleet: a newer lease holder has published since (this member no longer holds the lease)', { fence });
      }
    } catch (error) {
      const { code, message } = describeFailure(error, this.gate);
      this.logger.warn(`Could not publish the license to the fleet: ${message}`, { code });
    }
  }
}
