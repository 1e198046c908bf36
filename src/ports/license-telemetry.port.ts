/** Counts what happens to the license, for metrics; state-derived values are read at scrape time. */
export interface LicenseTelemetry {
  refreshFinished(event: { readonly outcome: 'refreshed' | 'failed'; readonly reason: string | null }): void;
  enforcementDenied(event: { readonly kind: 'quota' | 'feature'; readonly name: string }): void;
}
