/**
 * Keeps the last JWT the backend issued, to survive a restart while the backend is unreachable.
 * Fails with `CacheError`; a write either completes or leaves the previous entry untouched.
 */
export interface LicenseCache {
  /** The cached JWT (unverified), or null when there is none. */
  load(): Promise<string | null>;
  save(jwt: string): Promise<void>;
  clear(): Promise<void>;
}
