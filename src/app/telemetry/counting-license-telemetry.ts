import { isFeature } from '../../domain/model/feature.js';
import { isQuotaName } from '../../domain/model/quota.js';
import type { UsageCounters } from '../../domain/telemetry/usage-counters.js';
import type { LicenseTelemetry } from '../../ports/license-telemetry.port.js';

/**
 * The license telemetry that also counts enforcement denials for the next token request (DESIGN
 * §12), then passes every event on (to the metrics). Denials are counted whatever else the event
 * says (a shadow-mode would-be denial counts like an enforced one); a name that is not a quota or
 * a feature is not counted: only known names are ever sent.
 */
export class CountingLicenseTelemetry implements LicenseTelemetry {
  constructor(
    private readonly telemetry: LicenseTelemetry,
    private readonly counters: UsageCounters,
  ) {}

  refreshFinished(event: Parameters<LicenseTelemetry['refreshFinished']>[0]): void {
    this.telemetry.refreshFinished(event);
  }

  enforcementDenied(event: Parameters<LicenseTelemetry['enforcementDenied']>[0]): void {
    if (event.kind === 'quota' && isQuotaName(event.name)) this.counters.quotaDenied(event.name);
    if (event.kind === 'feature' && isFeature(event.name)) this.counters.featureDenied(event.name);
    this.telemetry.enforcementDenied(event);
  }
}

