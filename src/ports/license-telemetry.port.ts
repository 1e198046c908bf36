/** Counts what happens to the license, for metrics; state-derived values are read at scrape time. */
export interface LicenseTelemetry {
  /** `skipped`: no backend call was made (no API key, or a static JWT in force). */
  refreshFinished(event: { readonly outcome: 'refreshed' | 'failed' | 'skipped'; readonly reason: string | null }): void;
  enforcementDenied(event: { readonly kind: 'quota' | 'feature'; readonly name: string }): void;
}
