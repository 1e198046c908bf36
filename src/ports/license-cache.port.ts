/**
 * Keeps the last JWT the backend issued, to survive a restart while the backend is unreachable.
 * Fails with `CacheError`; a write either completes or leaves the previous entry untouched.
 * Nothing is ever deleted on a verdict: a token found bad is set aside for the operator.
 */
export interface LicenseCache {
  /** The cached JWT (unverified), or null when there is none. */
  load(): Promise<string | null>;
  save(jwt: string): Promise<void>;
  /**
   * Moves the cached JWT the last `load` returned out of the way (`license-cache.json.rejected-<UTC
   * time>` on disk, or `license-cache.jwt.rejected-…` for the original product's file; the three
   * newest of each kept) so that it is no longer loaded. Returns where it went; null when there was none.
   */
  setAside(): Promise<string | null>;
}
