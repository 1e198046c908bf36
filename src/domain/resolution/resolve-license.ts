import type { Clock } from '../../ports/clock.port.js';
import type { Logger } from '../../ports/logger.port.js';
import type { TrustedTime } from '../../ports/trusted-time.port.js';
import type { GraceWarnings } from '../expiry/grace-warnings.js';
import { COMMUNITY_LICENSE, type License } from '../model/license.js';
import type { LicenseSnapshot, LicenseState } from '../model/license-state.js';
import { ResolutionTrail, type ResolutionAttempt } from '../model/resolution-trail.js';
import type { BackendLicenseStep } from './backend-license.step.js';
import type { CachedLicenseStep } from './cached-license.step.js';
import type { StaticLicenseStep } from './static-license.step.js';

const DAY_MS = 86_400_000;

export interface ResolutionResult {
  /** The snapshot in force once the resolution finished. */
  readonly snapshot: LicenseSnapshot;
  /** False when a transient backend failure left the still-valid license in force untouched. */
  readonly replaced: boolean;
  /** The attempts of this resolution, in order — also when the license in force was kept. */
  readonly attempts: readonly ResolutionAttempt[];
  /** The API-key step's failure, when it failed. */
  readonly backendFailure: ResolutionAttempt | null;
  /** How long the backend asked us to wait (429/503 `Retry-After`). */
  readonly retryAfterMs: number | null;
  /** The API-key step failed for a reason no retry can fix (a malformed key, a key the backend rejected). */
  readonly backendFailedPermanently: boolean;
}

/**
 * Decides the license in force: static JWT, then API key, then disk cache, then Community —
 * the first that yields a verified license wins. A transient backend failure keeps the license
 * in force while it is still valid; only a definitive rejection walks on to the cache.
 */
export class ResolveLicense {
  #graceClampWarned = false;
  /** The fallback line last logged at its level; null once a license was in force since. */
  #fallbackLogged: string | null = null;

  constructor(
    private readonly staticLicense: StaticLicenseStep,
    private readonly backendLicense: BackendLicenseStep,
    private readonly cachedLicense: CachedLicenseStep,
    private readonly state: LicenseState,
    private readonly graceWarnings: GraceWarnings,
    private readonly trustedTime: TrustedTime,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly settings: { readonly apiKeyConfigured: boolean; readonly gracePeriodMs: number },
  ) {}

  async execute(): Promise<ResolutionResult> {
    const trail = new ResolutionTrail();
    const issued = (await this.staticLicense.attempt(trail)) ?? (await this.backendLicense.attempt(trail));
    const backendFailure = trail.backendFailure ?? null;
    const backend = {
      backendFailure,
      retryAfterMs: trail.backendRetryAfterMs,
      backendFailedPermanently: backendFailure !== null && !trail.backendFailedTransiently,
    };
    if (issued === null && trail.backendFailedTransiently && this.#licenseInForceIsValid()) {
      return { snapshot: this.state.current(), replaced: false, attempts: trail.attempts(), ...backend };
    }
    const license = issued ?? (await this.cachedLicense.attempt(trail)) ?? this.#community(trail);
    const attempts = trail.attempts();
    if (license.source !== 'community') this.#fallbackLogged = null;
    const change = this.state.install(license, attempts, this.clock.now());
    if (license.token !== null) this.trustedTime.accepted(license.token.issuedAt, license.source !== 'static');
    if (change.message !== null) this.logger.info(change.message, { tier: license.tier, source: license.source });
    this.#warnIfGraceClamped(license);
    this.graceWarnings.check(license);
    return { snapshot: change.after, replaced: true, attempts, ...backend };
  }

  /** Settles once the background cache writes of issued tokens are done (for a clean stop). */
  cacheWritesSettled(): Promise<void> {
    return this.backendLicense.cacheWritesSettled();
  }

  #licenseInForceIsValid(): boolean {
    const { license } = this.state.current();
    return license.source !== 'community' && this.clock.now().getTime() <= license.graceEndsAtMs;
  }

  /** The vendor bounds the grace period (DESIGN §3): a longer operator setting is clamped, said once. */
  #warnIfGraceClamped(license: License): void {
    if (this.#graceClampWarned || license.token === null || license.gracePeriodMs >= this.settings.gracePeriodMs) return;
    this.#graceClampWarned = true;
    this.logger.warn(
      `Grace period clamped to ${license.gracePeriodMs / DAY_MS} days by the license (SOFTCLIENT4ES_LICENSE_GRACE_PERIOD asks for ${this.settings.gracePeriodMs / DAY_MS})`,
      { grace_period_days: license.gracePeriodMs / DAY_MS },
    );
  }

  /**
   * The fallback, said as the original product says it (DESIGN §7): an ERROR when a license was
   * configured and none came of it — the API key's, or, without one, the static JWT's — else INFO.
   * Said once while it lasts (DESIGN §7, amended: a condition that goes on is not repeated at its
   * level): the retries of a Community agent repeat it at DEBUG until a license was in force again.
   */
  #community(trail: ResolutionTrail): License {
    const staticFailed = trail.attempts().some((attempt) => attempt.source === 'static' && attempt.outcome === 'failed');
    const [level, message] = this.settings.apiKeyConfigured
      ? (['error', 'Could not fetch license — falling back to Community mode'] as const)
      : staticFailed
        ? (['error', 'License expired or invalid — running in Community mode'] as const)
        : (['info', 'Running in Community mode'] as const);
    this.logger[message === this.#fallbackLogged ? 'debug' : level](message);
    this.#fallbackLogged = message;
    trail.used('community');
    return COMMUNITY_LICENSE;
  }
}
