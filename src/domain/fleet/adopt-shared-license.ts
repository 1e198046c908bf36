import type { Clock } from '../../ports/clock.port.js';
import type { LicenseCache } from '../../ports/license-cache.port.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import type { Logger } from '../../ports/logger.port.js';
import type { SharedLicenseStore } from '../../ports/shared-license-store.port.js';
import type { TrustedTime } from '../../ports/trusted-time.port.js';
import { describeFailure, failureFields, FleetError } from '../model/errors.js';
import type { LicenseSnapshot, LicenseState } from '../model/license-state.js';
import { licenseFromToken } from '../model/license.js';
import { ResolutionTrail } from '../model/resolution-trail.js';
import { trusted, type TextGate } from '../model/safe-text.js';
import { assertNotSuperseded } from '../resolution/superseded.js';

/** `adopted`: put in force; `unchanged`: already in force (or a static license ranks first); `absent`, `refused`, `unavailable`: nothing changed. */
export type AdoptionOutcome = 'adopted' | 'unchanged' | 'absent' | 'refused' | 'unavailable';

/**
 * A fleet member takes the license its lease holder published, on the same terms as a cache file:
 * verified (signature, issuer, instance, expiry with grace) and never older than the newest
 * backend-issued license this member accepted. Whatever the store holds, nothing unverified is
 * used: a refusal leaves the license in force as it is. An adopted license ranks as the API key's
 * (the holder got it from the backend with it), is cached on disk for a cold start without Redis,
 * and a tier change is logged as usual. A static license in force ranks first and stays.
 */
export class AdoptSharedLicense {
  #adopted: { readonly jwt: string; readonly snapshot: LicenseSnapshot } | null = null;
  #lastRefusal: string | null = null;

  constructor(
    private readonly store: SharedLicenseStore,
    private readonly verifier: LicenseVerifier,
    private readonly trustedTime: TrustedTime,
    private readonly state: LicenseState,
    private readonly cache: LicenseCache,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly gate: TextGate,
  ) {}

  async execute(): Promise<AdoptionOutcome> {
    let jwt: string;
    try {
      const shared = await this.store.load();
      if (shared === null) return 'absent';
      jwt = shared.jwt;
    } catch (error) {
      if (error instanceof FleetError && error.code === 'FLEET.UNREACHABLE') return 'unavailable'; // the member says so
      this.#refused(error, 'Fleet license record refused (the license in force stays)');
      return 'refused';
    }
    const inForce = this.state.current();
    if (inForce.license.source === 'static' || (this.#adopted?.jwt === jwt && this.#adopted.snapshot === inForce)) return 'unchanged';
    try {
      const token = await this.verifier.verify(jwt);
      assertNotSuperseded(token, this.trustedTime);
      const license = licenseFromToken(token, 'api_key');
      const trail = new ResolutionTrail();
      trail.used('api_key', trusted('issued to the fleet lease holder and adopted from the fleet'));
      const change = this.state.install(license, trail.attempts(), this.clock.now());
      this.trustedTime.accepted(token.claims.issuedAt, true);
      if (change.message !== null) this.logger.info(change.message, { tier: license.tier, source: license.source, fleet: true });
      this.#adopted = { jwt, snapshot: change.after };
      this.#lastRefusal = null;
      this.cache.save(jwt).catch((error: unknown) => this.logger.warn('Could not write the license cache', failureFields(error, describeFailure(error, this.gate))));
      return 'adopted';
    } catch (error) {
      this.#refused(error, 'Fleet license refused (the license in force stays)');
      return 'refused';
    }
  }

  /** WARN once per distinct refusal; the same bad record found again is not logged again. */
  #refused(error: unknown, what: string): void {
    const failure = describeFailure(error, this.gate);
    const key = `${failure.code} ${failure.message}`;
    if (key === this.#lastRefusal) return;
    this.#lastRefusal = key;
    this.logger.warn(`${what}: ${failure.message}`, failureFields(error, failure));
  }
}
