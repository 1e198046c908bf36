import type { Clock } from '../../ports/clock.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { assessExpiry, describeExpiredPastGrace } from '../model/grace.js';
import { COMMUNITY_LICENSE } from '../model/license.js';
import type { LicenseState } from '../model/license-state.js';

/**
 * Switches to Community the moment the license in force passes the end of its grace period,
 * leaving the agent degraded until a refresh brings a valid license back.
 */
export class ExpireLicense {
  constructor(
    private readonly state: LicenseState,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly gracePeriodMs: number,
  ) {}

  /** True when the license in force had expired and Community replaced it. */
  execute(): boolean {
    const { license } = this.state.current();
    if (license.expiresAt === null) return false;
    const now = this.clock.now();
    const expiry = assessExpiry(license.expiresAt, now, this.gracePeriodMs);
    if (expiry.status !== 'expired') return false;

    const message = describeExpiredPastGrace(license.expiresAt, expiry);
    const change = this.state.install(
      COMMUNITY_LICENSE,
      [
        { source: license.source, outcome: 'failed', code: 'LICENSE.EXPIRED', message },
        { source: 'community', outcome: 'used', code: null, message: null },
      ],
      now,
    );
    this.logger.warn('License expired — running in Community mode', { expired_at: license.expiresAt, tier: license.tier });
    if (change.message !== null) this.logger.info(change.message, { tier: 'community', source: 'community' });
    return true;
  }
}
