import type { LicenseCache } from '../../ports/license-cache.port.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import type { Logger } from '../../ports/logger.port.js';
import type { ConditionLog } from '../logging/condition-log.js';
import type { TokenBackend } from '../../ports/token-backend.port.js';
import type { TrustedTime } from '../../ports/trusted-time.port.js';
import { parseApiKey } from '../model/api-key.js';
import type { CurrentLicenseSources } from '../model/license-sources.js';
import { ApiKeyError, BackendError, describeFailure, failureFields, LicenseAgentError, LicenseTokenError, type Failure } from '../model/errors.js';
import { licenseFromToken, type License, type VerifiedLicenseToken } from '../model/license.js';
import type { ResolutionTrail } from '../model/resolution-trail.js';
import { trusted, type TextGate } from '../model/safe-text.js';
import { assertNotSuperseded } from './superseded.js';

export interface BackendStepSettings {
  readonly instanceId: string;
  readonly agentVersion: string;
}

/**
 * Step 2: exchange the API key for a JWT, verify it (never older than the newest already accepted),
 * and cache it for the next cold start — behind the install, never holding it up: the write runs
 * in the background, and while the disk is slow only the newest JWT waits to be written.
 * Only a rejection of the key (401 with the backend's JSON error) is definitive.
 */
export class BackendLicenseStep {
  #pendingWrite: string | null = null;
  #writing: Promise<void> | null = null;

  constructor(
    private readonly settings: BackendStepSettings,
    /** The API key is read from here at each attempt (a SIGHUP may replace it); its form is checked here, so that a malformed key never reaches the network. */
    private readonly sources: CurrentLicenseSources,
    private readonly backend: TokenBackend,
    private readonly verifier: LicenseVerifier,
    private readonly cache: LicenseCache,
    private readonly trustedTime: TrustedTime,
    private readonly logger: Logger,
    private readonly gate: TextGate,
    private readonly conditions: ConditionLog,
  ) {}

  async attempt(trail: ResolutionTrail): Promise<License | null> {
    const { apiKey } = this.sources.current();
    if (apiKey === null) {
      trail.skipped('api_key', trusted('no API key configured'));
      return null;
    }
    try {
      const token = await this.#fetchVerifiedToken(apiKey);
      this.conditions.recovered('License backend reachable again');
      this.#writeToCacheBehind(token.jwt);
      trail.used('api_key');
      return licenseFromToken(token, 'api_key');
    } catch (error) {
      const failure = describeFailure(error, this.gate);
      this.#logFailure(error, failure);
      const backendError = error instanceof BackendError ? error : null;
      trail.failed('api_key', failure, {
        // A malformed API key stays malformed until the operator acts: no retry can help.
        transient: backendError?.transient ?? !(error instanceof ApiKeyError),
        retryAfterMs: backendError?.retryAfterMs ?? null,
      });
      return null;
    }
  }

  /** Settles once the cache writes asked for so far are done (or failed; failures are logged). */
  cacheWritesSettled(): Promise<void> {
    return this.#writing ?? Promise.resolve();
  }

  async #fetchVerifiedToken(rawApiKey: string): Promise<VerifiedLicenseToken> {
    const apiKey = parseApiKey(rawApiKey);
    const { instanceId, agentVersion } = this.settings;
    const issued = await this.backend.requestToken({ apiKey, instanceId, agentVersion });
    if (issued.message !== null) this.logger.info(issued.message, { source: 'license_backend' });
    const token = await this.verifier.verify(issued.jwt);
    assertNotSuperseded(token, this.trustedTime);
    const lifetimeSeconds = (token.claims.expiresAt.getTime() - token.claims.issuedAt.getTime()) / 1000;
    if (issued.expiresInSeconds !== null && Math.abs(issued.expiresInSeconds - lifetimeSeconds) > 60) {
      // Advisory only (DESIGN §4, amended): the signed `exp` rules.
      this.logger.debug('License backend "expires_in" disagrees with the token\'s own lifetime; "exp" rules', {
        expires_in: issued.expiresInSeconds,
        token_lifetime_seconds: lifetimeSeconds,
      });
    }
    return token;
  }

  #writeToCacheBehind(jwt: string): void {
    this.#pendingWrite = jwt;
    this.#writing ??= this.#drainWrites().finally(() => {
      this.#writing = null;
    });
  }

  async #drainWrites(): Promise<void> {
    for (let jwt = this.#pendingWrite; jwt !== null; jwt = this.#pendingWrite) {
      this.#pendingWrite = null;
      try {
        await this.cache.save(jwt);
      } catch (error) {
        const { code, message } = describeFailure(error, this.gate);
        this.logger.warn(`Could not write the license cache: ${message}`, { code });
      }
    }
  }

  /** Once per condition, not once per retry (`ConditionLog`): a down backend does not flood the log. */
  #logFailure(error: unknown, failure: Failure): void {
    const { code, message } = failure;
    const report = this.conditions.report.bind(this.conditions, code);
    if (error instanceof LicenseTokenError && error.code === 'LICENSE.SUPERSEDED') {
      report('transient', 'warn', `License backend answered with an older license than the one already accepted: ${message}`, { code });
    } else if (error instanceof LicenseTokenError) {
      report('transient', 'error', `License issued by the backend failed verification: ${message}`, { code });
    } else if (error instanceof BackendError && error.transient) {
      report('transient', 'warn', `License backend request failed: ${message}`, { code, status: error.status });
    } else if (error instanceof BackendError) {
      report('permanent', 'error', `License backend rejected the API key (HTTP ${error.status ?? 401}): ${message}`, { code, status: error.status });
    } else if (error instanceof LicenseAgentError) {
      report('permanent', 'error', message, { code }); // a malformed API key
    } else {
      report('transient', 'error', `License backend step failed: ${message}`, failureFields(error, failure));
    }
  }
}
