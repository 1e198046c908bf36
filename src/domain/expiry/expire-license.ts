import type { Clock } from '../../ports/clock.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { assessExpiry, describeExpiredPastGrace } from '../model/grace.js';
import { COMMUNITY_LICENSE } from '../model/license.js';
import type { LicenseSnapshot, LicenseState } from '../model/license-state.js';
import { trusted } from '../model/safe-text.js';

/**
 * Switches to Community the moment the license in force passes the end of its grace period,
 * leaving the agent degraded until a refresh brings a valid license back. Expiry is judged against
 * the clock wherever the license is read (`current`), not only when a timer fires: after a clock
 * jump (suspend, VM migration, NTP step) the next reader already sees Community.
 */
export class ExpireLicense {
  constructor(
    private readonly state: LicenseState,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /**
   * The snapshot in force at `nowMs` (epoch ms, the clock's by default), expiring the license first
   * if its grace has ended. Costs one comparison while the license is valid.
   */
  current(nowMs?: number): LicenseSnapshot {
    const snapshot = this.state.current();
    const { graceEndsAtMs } = snapshot.license;
    if (graceEndsAtMs === Number.POSITIVE_INFINITY || (nowMs ?? this.clock.now().getTime()) <= graceEndsAtMs) return snapshot;
    this.execute();
    return this.state.current();
  }

  /** True when the license in force had expired and Community replaced it. */
  execute(): boolean {
    const { license } = this.state.current();
    if (license.expiresAt === null) return false;
    const now = this.clock.now();
    if (now.getTime() <= license.graceEndsAtMs) return false;

    const message = trusted(describeExpiredPastGrace(license.expiresAt, assessExpiry(license.expiresAt, now, license.gracePeriodMs)));
    const change = this.state.install(
      COMMUNITY_LICENSE,
      [
        { source: license.source, outcome: 'failed', code: trusted('LICENSE.EXPIRED'), message },
        { source: 'community', outcome: 'used', code: null, message: null },
      ],
      now,
    );
    this.logger.warn('License expired — running in Community mode', { expired_at: license.expiresAt, tier: license.tier });
    if (change.message !== null) this.logger.info(change.message, { tier: 'community', source: 'community' });
    return true;
  }
}
