import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import { staticJwtOf, type CurrentLicenseSources } from '../model/license-sources.js';
import type { Logger } from '../../ports/logger.port.js';
import { describeFailure, failureFields } from '../model/errors.js';
import { licenseFromToken, type License } from '../model/license.js';
import type { ResolutionTrail } from '../model/resolution-trail.js';
import { trusted, type TextGate } from '../model/safe-text.js';

/**
 * Step 1: the signed JWT from configuration, when one is set and verifies — else the one installed
 * at runtime (`PUT /admin/license`). The operator's explicit choice: exempt from the "never older"
 * rule that binds backend-issued tokens. Read from the sources in force when the step runs.
 */
export class StaticLicenseStep {
  constructor(
    private readonly sources: CurrentLicenseSources,
    private readonly verifier: LicenseVerifier,
    private readonly logger: Logger,
    private readonly gate: TextGate,
  ) {}

  async attempt(trail: ResolutionTrail): Promise<License | null> {
    const chosen = staticJwtOf(this.sources.current());
    if (chosen === null) {
      trail.skipped('static', trusted('no static license configured'));
      return null;
    }
    try {
      const license = licenseFromToken(await this.verifier.verify(chosen.jwt), 'static');
      trail.used('static', chosen.installed ? trusted('installed license (PUT /admin/license)') : null);
      return license;
    } catch (error) {
      const failure = describeFailure(error, this.gate);
      const which = chosen.installed ? 'Installed license' : 'Static license';
      this.logger.error(`${which} rejected: ${failure.message}`, failureFields(error, failure));
      trail.failed('static', failure);
      return null;
    }
  }
}
