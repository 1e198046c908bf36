import type { Clock } from '../../ports/clock.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { assessExpiry, type ExpiryStatus } from '../model/grace.js';
import type { License } from '../model/license.js';
import { tierName } from '../model/tier.js';

const HOUR_MS = 3_600_000;

/**
 * Warns that the license in force is past its expiry and living on its grace period — at most once
 * an hour per process, and once more whenever the grace status changes, so a busy server that
 * checks on every request does not flood its log.
 */
export class GraceWarnings {
  #lastStatus: ExpiryStatus | null = null;
  #lastWarnedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly intervalMs = HOUR_MS,
  ) {}

  /** Logs a WARN when `license` is in grace and the rate limit allows; returns the grace status. */
  check(license: License): ExpiryStatus {
    if (license.expiresAt === null) return 'valid';
    const now = this.clock.now();
    const assessment = assessExpiry(license.expiresAt, now, license.gracePeriodMs);
    const { status } = assessment;
    if (status !== 'early_grace' && status !== 'mid_grace') return status;
    if (status === this.#lastStatus && now.getTime() - this.#lastWarnedAt < this.intervalMs) return status;
    this.#lastStatus = status;
    this.#lastWarnedAt = now.getTime();
    const phase = status === 'early_grace' ? 'early' : 'mid';
    this.logger.warn(
      `${tierName(license.tier)} license expired on ${license.expiresAt.toISOString()}; ` +
        `${phase} grace period, Community mode from ${assessment.graceEndsAt.toISOString()} unless renewed`,
      { grace: phase, days_expired: assessment.daysExpired, days_remaining: assessment.graceDaysRemaining },
    );
    return status;
  }
}
