import type { LicenseCache } from '../../ports/license-cache.port.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import type { Logger } from '../../ports/logger.port.js';
import type { TokenBackend } from '../../ports/token-backend.port.js';
import { parseApiKey } from '../model/api-key.js';
import { BackendError, describeFailure, LicenseTokenError } from '../model/errors.js';
import { licenseFromToken, type License, type VerifiedLicenseToken } from '../model/license.js';
import type { ResolutionTrail } from '../model/resolution-trail.js';

export interface BackendStepSettings {
  /** As configured: checked here, so that a malformed key never reaches the network. */
  readonly apiKey: string | null;
  readonly instanceId: string;
  readonly agentVersion: string;
}

/**
 * Step 2: exchange the API key for a JWT, verify it, and cache it for the next cold start.
 * Only a rejection of the key (401) is definitive; every other failure is recorded as transient.
 */
export class BackendLicenseStep {
  constructor(
    private readonly settings: BackendStepSettings,
    private readonly backend: TokenBackend,
    private readonly verifier: LicenseVerifier,
    private readonly cache: LicenseCache,
    private readonly logger: Logger,
  ) {}

  async attempt(trail: ResolutionTrail): Promise<License | null> {
    const { apiKey } = this.settings;
    if (apiKey === null) {
      trail.skipped('api_key', 'no API key configured');
      return null;
    }
    try {
      const token = await this.#fetchVerifiedToken(apiKey);
      await this.#saveToCache(token.jwt);
      trail.used('api_key');
      return licenseFromToken(token, 'api_key');
    } catch (error) {
      const failure = describeFailure(error);
      this.#logFailure(error, failure);
      const backendError = error instanceof BackendError ? error : null;
      trail.failed('api_key', failure, {
        transient: backendError?.transient ?? true,
        retryAfterMs: backendError?.retryAfterMs ?? null,
      });
      return null;
    }
  }

  async #fetchVerifiedToken(rawApiKey: string): Promise<VerifiedLicenseToken> {
    const apiKey = parseApiKey(rawApiKey);
    const { instanceId, agentVersion } = this.settings;
    const issued = await this.backend.requestToken({ apiKey, instanceId, agentVersion });
    if (issued.message !== null) this.logger.info(issued.message, { source: 'license_backend' });
    return this.verifier.verify(issued.jwt);
  }

  async #saveToCache(jwt: string): Promise<void> {
    try {
      await this.cache.save(jwt);
    } catch (error) {
      const { code, message } = describeFailure(error);
      this.logger.warn(`Could not write the license cache: ${message}`, { code });
    }
  }

  #logFailure(error: unknown, { code, message }: { code: string; message: string }): void {
    if (error instanceof LicenseTokenError) {
      this.logger.error(`License issued by the backend failed verification: ${message}`, { code });
    } else if (error instanceof BackendError && error.transient) {
      this.logger.warn(`License backend request failed: ${message}`, { code, status: error.status });
    } else if (error instanceof BackendError) {
      this.logger.error(message, { code, status: error.status }); // the backend's own words on a 401
    } else {
      this.logger.error(message, { code });
    }
  }
}
