import type { InstalledLicenseStore } from '../../ports/installed-license-store.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { describeFailure, type Failure } from '../model/errors.js';
import type { CurrentLicenseSources } from '../model/license-sources.js';
import type { TextGate } from '../model/safe-text.js';
import type { RefreshLicense, RefreshOutcome } from '../refresh/refresh-license.js';

export type RemoveResult =
  | { readonly kind: 'removed'; readonly outcome: RefreshOutcome }
  | { readonly kind: 'none' }
  /** The stored copy could not be removed: the license stays installed (it would come back at the next start). */
  | { readonly kind: 'not_removed'; readonly failure: Failure };

/** `DELETE /admin/license`: removes the installed license, then the resolution runs again without it. */
export class RemoveInstalledLicense {
  constructor(
    private readonly sources: CurrentLicenseSources,
    private readonly store: InstalledLicenseStore,
    private readonly refresh: RefreshLicense,
    private readonly logger: Logger,
    private readonly gate: TextGate,
  ) {}

  async execute(): Promise<RemoveResult> {
    // One change of the sources at a time (see CurrentLicenseSources.exclusive).
    const change = await this.sources.exclusive(() => this.#remove());
    if (change.kind !== 'gone') return change;
    return { kind: 'removed', outcome: await this.refresh.executeAfterChange() };
  }

  async #remove(): Promise<Exclude<RemoveResult, { kind: 'removed' }> | { readonly kind: 'gone' }> {
    const inForce = this.sources.current().installedLicenseJwt !== null;
    let stored: boolean;
    try {
      stored = await this.store.remove();
    } catch (error) {
      const failure = describeFailure(error, this.gate);
      this.logger.error(`Installed license not removed: ${failure.message}`, { code: failure.code });
      return { kind: 'not_removed', failure };
    }
    if (!inForce && !stored) return { kind: 'none' };
    this.sources.update({ installedLicenseJwt: null });
    this.logger.info('Installed license removed');
    return { kind: 'gone' };
  }
}
