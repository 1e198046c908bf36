/**
 * What this installation has seen of time and of issued tokens: the memory behind "time never
 * runs backwards" and "never an older token" (DESIGN §3, amended 2026-11-30).
 */
export interface TrustedTime {
  /** The `iat` of the newest backend-issued token this installation accepted; null before the first. */
  newestBackendIssuedAt(): Date | null;
  /**
   * Records a verified token just put in force: its `iat` is evidence of the time, and a
   * backend-issued one (`fromBackend`: fetched or cached) raises the bar for later tokens.
   */
  accepted(issuedAt: Date, fromBackend: boolean): void;
}
