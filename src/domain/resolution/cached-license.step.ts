import type { LicenseCache } from '../../ports/license-cache.port.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import type { Logger } from '../../ports/logger.port.js';
import type { TrustedTime } from '../../ports/trusted-time.port.js';
import { describeFailure, failureFields, isUnsafeDirectory, LicenseTokenError } from '../model/errors.js';
import { licenseFromToken, type License } from '../model/license.js';
import type { ResolutionTrail } from '../model/resolution-trail.js';
import { trusted, type TextGate } from '../model/safe-text.js';
import { assertNotSuperseded } from './superseded.js';

/**
 * Step 3: the last JWT the backend issued, verified like any other and never older than the newest
 * backend token already accepted. An unreadable cache counts as absent. A rejected token is moved
 * aside only on a verdict about the token itself; one refused for local reasons (the clock, the
 * configured keys or issuer) stays where it is, since it may verify again once those are right.
 */
export class CachedLicenseStep {
  constructor(
    private readonly cache: LicenseCache,
    private readonly verifier: LicenseVerifier,
    private readonly trustedTime: TrustedTime,
    private readonly logger: Logger,
    private readonly gate: TextGate,
  ) {}

  async attempt(trail: ResolutionTrail): Promise<License | null> {
    let jwt: string | null;
    try {
      jwt = await this.cache.load();
    } catch (error) {
      const failure = describeFailure(error, this.gate);
      this.logger[isUnsafeDirectory(error) ? 'debug' : 'warn'](`License cache ignored: ${failure.message}`, failureFields(error, failure));
      trail.failed('cache', failure);
      return null;
    }
    if (jwt === null) {
      trail.skipped('cache', trusted('no cached license'));
      return null;
    }
    try {
      const token = await this.verifier.verify(jwt);
      assertNotSuperseded(token, this.trustedTime);
      const license = licenseFromToken(token, 'cache');
      this.logger.warn('Using cached license', { tier: license.tier, expires_at: license.expiresAt });
      trail.used('cache');
      return license;
    } catch (error) {
      const failure = describeFailure(error, this.gate);
      trail.failed('cache', failure);
      if (error instanceof LicenseTokenError && error.kind === 'intrinsic') await this.#setAside(failure.message);
      else this.logger.warn(`Cached license not used (kept, it may verify later): ${failure.message}`, failureFields(error, failure));
      return null;
    }
  }

  async #setAside(reason: string): Promise<void> {
    try {
      const movedTo = await this.cache.setAside();
      this.logger.warn(`Cached license rejected and moved aside: ${reason}`, { moved_to: movedTo });
    } catch (error) {
      const { code, message } = describeFailure(error, this.gate);
      this.logger.warn(`Cached license rejected (${reason}); could not move it aside: ${message}`, { code });
    }
  }
}
