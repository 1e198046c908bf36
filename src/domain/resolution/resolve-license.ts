import type { Clock } from '../../ports/clock.port.js';
import type { Logger } from '../../ports/logger.port.js';
import type { GraceWarnings } from '../expiry/grace-warnings.js';
import { assessExpiry } from '../model/grace.js';
import { COMMUNITY_LICENSE, type License } from '../model/license.js';
import type { LicenseSnapshot, LicenseState } from '../model/license-state.js';
import { ResolutionTrail, type ResolutionAttempt } from '../model/resolution-trail.js';
import type { BackendLicenseStep } from './backend-license.step.js';
import type { CachedLicenseStep } from './cached-license.step.js';
import type { StaticLicenseStep } from './static-license.step.js';

export interface ResolutionResult {
  /** The snapshot in force once the resolution finished. */
  readonly snapshot: LicenseSnapshot;
  /** False when a transient backend failure left the still-valid license in force untouched. */
  readonly replaced: boolean;
  /** The API-key step's failure, when it failed. */
  readonly backendFailure: ResolutionAttempt | null;
  /** How long the backend asked us to wait (429/503 `Retry-After`). */
  readonly retryAfterMs: number | null;
}

/**
 * Decides the license in force: static JWT, then API key, then disk cache, then Community —
 * the first that yields a verified license wins. A transient backend failure keeps the license
 * in force while it is still valid; only a definitive rejection walks on to the cache.
 */
export class ResolveLicense {
  constructor(
    private readonly staticLicense: StaticLicenseStep,
    private readonly backendLicense: BackendLicenseStep,
    private readonly cachedLicense: CachedLicenseStep,
    private readonly state: LicenseState,
    private readonly graceWarnings: GraceWarnings,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly settings: { readonly apiKeyConfigured: boolean; readonly gracePeriodMs: number },
  ) {}

  async execute(): Promise<ResolutionResult> {
    const trail = new ResolutionTrail();
    const issued = (await this.staticLicense.attempt(trail)) ?? (await this.backendLicense.attempt(trail));
    const backend = { backendFailure: trail.backendFailure ?? null, retryAfterMs: trail.backendRetryAfterMs };
    if (issued === null && trail.backendFailedTransiently && this.#licenseInForceIsValid()) {
      return { snapshot: this.state.current(), replaced: false, ...backend };
    }
    const license = issued ?? (await this.cachedLicense.attempt(trail)) ?? this.#community(trail);
    const change = this.state.install(license, trail.attempts(), this.clock.now());
    if (change.message !== null) this.logger.info(change.message, { tier: license.tier, source: license.source });
    this.graceWarnings.check(license);
    return { snapshot: change.after, replaced: true, ...backend };
  }

  #licenseInForceIsValid(): boolean {
    const { license } = this.state.current();
    if (license.source === 'community' || license.expiresAt === null) return false;
    return assessExpiry(license.expiresAt, this.clock.now(), this.settings.gracePeriodMs).status !== 'expired';
  }

  #community(trail: ResolutionTrail): License {
    if (this.settings.apiKeyConfigured) {
      this.logger.error('Could not fetch license — falling back to Community mode');
    } else {
      this.logger.info('Running in Community mode');
    }
    trail.used('community');
    return COMMUNITY_LICENSE;
  }
}
