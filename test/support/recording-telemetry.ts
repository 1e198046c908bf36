import type { LicenseTelemetry } from '../../src/ports/license-telemetry.port.js';

export class RecordingTelemetry implements LicenseTelemetry {
  readonly refreshes: { outcome: 'refreshed' | 'failed' | 'skipped'; reason: string | null }[] = [];
  readonly denials: { kind: 'quota' | 'feature'; name: string; mode: 'enforce' | 'shadow' }[] = [];

  refreshFinished(event: { outcome: 'refreshed' | 'failed' | 'skipped'; reason: string | null }): void {
    this.refreshes.push(event);
  }

  enforcementDenied(event: { kind: 'quota' | 'feature'; name: string; mode: 'enforce' | 'shadow' }): void {
    this.denials.push(event);
  }
}
