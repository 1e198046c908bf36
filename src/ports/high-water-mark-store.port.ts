/** The persisted memory of trusted time (DESIGN §8: `<cache dir>/clock.json`). */
export interface HighWaterMark {
  /** The latest instant this installation trusted: the wall clock seen, or a token's `iat`. */
  readonly highWaterAt: Date;
  /** The `iat` of the newest backend-issued token accepted; null before the first. */
  readonly newestBackendIssuedAt: Date | null;
}

/** Loads and saves the high-water mark. Fails with `CacheError`; a save replaces the file atomically. */
export interface HighWaterMarkStore {
  /** The saved mark, or null when there is none (or none that can be trusted). */
  load(): Promise<HighWaterMark | null>;
  save(mark: HighWaterMark): Promise<void>;
}
