import { COMMUNITY_LICENSE, type License } from './license.js';
import type { ResolutionAttempt } from './resolution-trail.js';
import { compareTiers, isPaidTier, tierName } from './tier.js';

/** Everything per-request code needs, captured at one instant; never mutated. */
export interface LicenseSnapshot {
  readonly license: License;
  /** True after a paid license in force was lost (expired past grace, rejected), until one returns. */
  readonly degraded: boolean;
  /** The attempts of the resolution that produced `license`. */
  readonly resolution: readonly ResolutionAttempt[];
  readonly installedAt: Date;
}

/** A swap of the license in force, with the log line it deserves (null when the tier is unchanged). */
export interface LicenseChange {
  readonly before: LicenseSnapshot;
  readonly after: LicenseSnapshot;
  readonly message: string | null;
}

/**
 * Holds the license in force as one immutable snapshot, replaced atomically: a reader gets the
 * whole old snapshot or the whole new one, never a mix. The agent starts as Community.
 */
export class LicenseState {
  #snapshot: LicenseSnapshot;
  readonly #listeners = new Set<(change: LicenseChange) => void>();

  constructor(startedAt: Date) {
    this.#snapshot = Object.freeze({
      license: COMMUNITY_LICENSE,
      degraded: false,
      resolution: Object.freeze([]),
      installedAt: startedAt,
    });
  }

  current(): LicenseSnapshot {
    return this.#snapshot;
  }

  /**
   * Puts `license` in force. Falling back to Community from a paid license (or staying there
   * after such a fall) marks the agent degraded; any issued license clears it. A paid license whose
   * source is no longer configured (`skipped` in this resolution: the operator removed the license
   * installed with `PUT /admin/license`) was given up, not lost: no degradation, no alert, as after
   * a restart without it.
   */
  install(license: License, resolution: readonly ResolutionAttempt[], at: Date): LicenseChange {
    const before = this.#snapshot;
    const givenUp = resolution.some((attempt) => attempt.source === before.license.source && attempt.outcome === 'skipped');
    const lostPaidLicense = (isPaidTier(before.license.tier) && !givenUp) || before.degraded;
    const degraded = license.source === 'community' && lostPaidLicense;
    const after: LicenseSnapshot = Object.freeze({ license, degraded, resolution, installedAt: at });
    this.#snapshot = after;
    const change = { before, after, message: describeTierChange(before, after) };
    for (const listener of this.#listeners) listener(change);
    return change;
  }

  /** Calls `listener` after every install; returns the function that unsubscribes it. */
  onChange(listener: (change: LicenseChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

function describeTierChange(before: LicenseSnapshot, after: LicenseSnapshot): string | null {
  const from = before.license.tier;
  const to = after.license.tier;
  if (from === to) return null;
  if (before.degraded && !after.degraded) return `License restored to ${tierName(to)}`;
  return compareTiers(to, from) > 0
    ? `License upgraded from ${tierName(from)} to ${tierName(to)}`
    : `License downgraded from ${tierName(from)} to ${tierName(to)}`;
}
