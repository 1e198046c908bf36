import type { InstalledLicenseStore } from '../../ports/installed-license-store.port.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { describeFailure, LicenseTokenError, type Failure } from '../model/errors.js';
import type { CurrentLicenseSources } from '../model/license-sources.js';
import type { VerifiedLicenseToken } from '../model/license.js';
import type { TextGate } from '../model/safe-text.js';
import { tierName } from '../model/tier.js';
import type { RefreshLicense, RefreshOutcome } from '../refresh/refresh-license.js';

export type InstallResult =
  | { readonly kind: 'installed'; readonly outcome: RefreshOutcome }
  /** The token does not verify: nothing was stored, nothing changed. */
  | { readonly kind: 'rejected'; readonly failure: Failure }
  /** A static JWT is configured (`SOFTCLIENT4ES_LICENSE_KEY`): it takes precedence, an install would not be in force. */
  | { readonly kind: 'static_configured' }
  /** It verified but could not be stored: not installed, since it would not survive a restart. */
  | { readonly kind: 'not_saved'; readonly failure: Failure };

/**
 * `PUT /admin/license`: installs a license at runtime. Verified first (exactly as step 1 will
 * verify it), stored so that it survives a restart, then in force at once: it acts as a static
 * license, ahead of the API key and the cache, and the resolution runs again.
 */
export class InstallLicense {
  constructor(
    private readonly sources: CurrentLicenseSources,
    private readonly verifier: LicenseVerifier,
    private readonly store: InstalledLicenseStore,
    private readonly refresh: RefreshLicense,
    private readonly logger: Logger,
    private readonly gate: TextGate,
  ) {}

  async execute(jwt: string): Promise<InstallResult> {
    // One change of the sources at a time: what is in force then always matches what is stored.
    const change = await this.sources.exclusive(() => this.#store(jwt));
    if (change.kind !== 'stored') return change;
    return { kind: 'installed', outcome: await this.refresh.executeAfterChange() };
  }

  async #store(jwt: string): Promise<Exclude<InstallResult, { kind: 'installed' }> | { readonly kind: 'stored' }> {
    if (this.sources.current().staticLicenseJwt !== null) return { kind: 'static_configured' };
    let token: VerifiedLicenseToken;
    try {
      token = await this.verifier.verify(jwt);
    } catch (error) {
      if (!(error instanceof LicenseTokenError)) throw error;
      const failure = describeFailure(error, this.gate);
      this.logger.warn(`License not installed: ${failure.message}`, { code: failure.code });
      return { kind: 'rejected', failure };
    }
    try {
      await this.store.save(jwt);
    } catch (error) {
      const failure = describeFailure(error, this.gate);
      this.logger.error(`License not installed: it could not be stored (${failure.message})`, { code: failure.code });
      return { kind: 'not_saved', failure };
    }
    this.sources.update({ installedLicenseJwt: jwt });
    this.logger.info(`License installed: ${tierName(token.claims.tier)} until ${token.claims.expiresAt.toISOString()}`, {
      fingerprint: token.info.fingerprint,
      kid: token.info.kid,
    });
    return { kind: 'stored' };
  }
}
