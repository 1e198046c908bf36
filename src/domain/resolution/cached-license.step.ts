import type { LicenseCache } from '../../ports/license-cache.port.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { describeFailure } from '../model/errors.js';
import { licenseFromToken, type License } from '../model/license.js';
import type { ResolutionTrail } from '../model/resolution-trail.js';

/**
 * Step 3: the last JWT the backend issued, verified like any other. An unreadable cache counts as
 * absent; a cached token that no longer verifies is deleted.
 */
export class CachedLicenseStep {
  constructor(
    private readonly cache: LicenseCache,
    private readonly verifier: LicenseVerifier,
    private readonly logger: Logger,
  ) {}

  async attempt(trail: ResolutionTrail): Promise<License | null> {
    let jwt: string | null;
    try {
      jwt = await this.cache.load();
    } catch (error) {
      const failure = describeFailure(error);
      this.logger.warn(`License cache ignored: ${failure.message}`, { code: failure.code });
      trail.failed('cache', failure);
      return null;
    }
    if (jwt === null) {
      trail.skipped('cache', 'no cached license');
      return null;
    }
    try {
      const license = licenseFromToken(await this.verifier.verify(jwt), 'cache');
      this.logger.warn('Using cached license', { tier: license.tier, expires_at: license.expiresAt });
      trail.used('cache');
      return license;
    } catch (error) {
      const failure = describeFailure(error);
      this.logger.warn(`Cached license rejected and deleted: ${failure.message}`, { code: failure.code });
      trail.failed('cache', failure);
      await this.#clear();
      return null;
    }
  }

  async #clear(): Promise<void> {
    try {
      await this.cache.clear();
    } catch (error) {
      const { code, message } = describeFailure(error);
      this.logger.warn(`Could not delete the rejected cached license: ${message}`, { code });
    }
  }
}
