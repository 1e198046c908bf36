import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { describeFailure, failureFields } from '../model/errors.js';
import { licenseFromToken, type License } from '../model/license.js';
import type { ResolutionTrail } from '../model/resolution-trail.js';
import { trusted, type TextGate } from '../model/safe-text.js';

/**
 * Step 1: the signed JWT from configuration, when one is set and verifies. The operator's explicit
 * choice: exempt from the "never older" rule that binds backend-issued tokens.
 */
export class StaticLicenseStep {
  constructor(
    private readonly jwt: string | null,
    private readonly verifier: LicenseVerifier,
    private readonly logger: Logger,
    private readonly gate: TextGate,
  ) {}

  async attempt(trail: ResolutionTrail): Promise<License | null> {
    if (this.jwt === null) {
      trail.skipped('static', trusted('no static license configured'));
      return null;
    }
    try {
      const license = licenseFromToken(await this.verifier.verify(this.jwt), 'static');
      trail.used('static');
      return license;
    } catch (error) {
      const failure = describeFailure(error, this.gate);
      this.logger.error(`Static license rejected: ${failure.message}`, failureFields(error, failure));
      trail.failed('static', failure);
      return null;
    }
  }
}
