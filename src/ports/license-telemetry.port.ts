/** Counts what happens to the license, for metrics; state-derived values are read at scrape time. */
export interface LicenseTelemetry {
  /** `skipped`: no backend call was made (no API key, or a static JWT in force). */
  refreshFinished(event: { readonly outcome: 'refreshed' | 'failed' | 'skipped'; readonly reason: string | null }): void;
  /**
   * A gate refused a request (`mode: 'enforce'`), or would have in shadow mode (`mode: 'shadow'`,
   * the request went through); also an `agent.usage(quota).acquire` over the limit.
   */
  enforcementDenied(event: { readonly kind: 'quota' | 'feature'; readonly name: string; readonly mode: 'enforce' | 'shadow' }): void;
}
