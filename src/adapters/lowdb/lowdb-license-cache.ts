import { Low } from 'lowdb';
import { CacheError } from '../../domain/model/errors.js';
import type { Clock } from '../../ports/clock.port.js';
import type { LicenseCache } from '../../ports/license-cache.port.js';
import { withDeadline } from '../fs/deadline.js';
import { errorCode, PrivateFileError } from '../fs/private-files.js';
import { UntrustedDirectoryError, type StateDirectory } from '../fs/state-directory.js';
import { CorruptFileError, PrivateJsonFile } from './private-json-file.js';

export const LICENSE_CACHE_FILE = 'license-cache.json';
/** The longest a read of the cache may hold up a resolution (start-up readiness included). */
export const CACHE_READ_DEADLINE_MS = 2_000;
/** How many rejected cache files are kept for the operator; older ones are removed. */
export const REJECTED_CACHE_FILES_KEPT = 3;
const REJECTED_PREFIX = `${LICENSE_CACHE_FILE}.rejected-`;

interface CacheDocument {
  readonly jwt: string | null;
  readonly saved_at: string | null;
}

const EMPTY: CacheDocument = { jwt: null, saved_at: null };

function parseCacheDocument(document: unknown): CacheDocument {
  if (typeof document !== 'object' || document === null) throw new Error('expected a JSON object');
  const { jwt, saved_at: savedAt } = document as Record<string, unknown>;
  if (typeof jwt !== 'string' || jwt.length === 0) throw new Error('"jwt" must be a non-empty string');
  return { jwt, saved_at: typeof savedAt === 'string' ? savedAt : null };
}

/**
 * The last license JWT the backend issued, in `<cache dir>/license-cache.json`. Fails with
 * `CacheError`: `CACHE.UNSAFE_DIRECTORY` when the cache directory is not trusted (nothing in it is
 * read, written or deleted), `CACHE.CORRUPT`, `CACHE.TOO_LARGE`, `CACHE.UNSAFE_FILE`,
 * `CACHE.TIMEOUT` (a read slower than its deadline), `CACHE.IO_FAILED`.
 */
export class LowdbLicenseCache implements LicenseCache {
  readonly #file: PrivateJsonFile<CacheDocument>;
  readonly #db: Low<CacheDocument>;

  constructor(
    private readonly directory: StateDirectory,
    private readonly clock: Clock,
    private readonly readDeadlineMs = CACHE_READ_DEADLINE_MS,
  ) {
    this.#file = new PrivateJsonFile(directory, LICENSE_CACHE_FILE, parseCacheDocument);
    this.#db = new Low(this.#file, EMPTY);
  }

  async load(): Promise<string | null> {
    try {
      this.#db.data = EMPTY;
      await withDeadline(
        this.#db.read(),
        this.readDeadlineMs,
        () => new CacheError('CACHE.TIMEOUT', `reading ${this.#file.path} took longer than ${this.readDeadlineMs} ms`),
      );
      return this.#db.data.jwt;
    } catch (error) {
      throw toCacheError(error, 'read', this.#file.path);
    }
  }

  async save(jwt: string): Promise<void> {
    try {
      this.#db.data = { jwt, saved_at: this.clock.now().toISOString() };
      await this.#db.write();
    } catch (error) {
      throw toCacheError(error, 'write', this.#file.path);
    }
  }

  /**
   * Renames the cache file (a planted link as a link) to `license-cache.json.rejected-<UTC time>`
   * and removes all but the newest `REJECTED_CACHE_FILES_KEPT` such files.
   */
  async setAside(): Promise<string | null> {
    try {
      const stamp = this.clock.now().toISOString().replace(/[-:]/g, '');
      const existing = await this.directory.list(REJECTED_PREFIX);
      let name = `${REJECTED_PREFIX}${stamp}`;
      for (let n = 1; existing.includes(name); n += 1) name = `${REJECTED_PREFIX}${stamp}-${n}`;
      if (!(await this.directory.rename(LICENSE_CACHE_FILE, name))) return null;
      const surplus = [...existing, name].sort().slice(0, -REJECTED_CACHE_FILES_KEPT);
      for (const old of surplus) await this.directory.remove(old);
      return this.directory.pathOf(name);
    } catch (error) {
      throw toCacheError(error, 'set aside', this.#file.path);
    }
  }
}

/** A file-system or content failure on `path`, as the `CacheError` callers act on. */
export function toCacheError(error: unknown, operation: string, path: string): CacheError {
  if (error instanceof CacheError) return error;
  if (error instanceof UntrustedDirectoryError) {
    return new CacheError('CACHE.UNSAFE_DIRECTORY', error.message, { cause: error });
  }
  if (error instanceof CorruptFileError) return new CacheError('CACHE.CORRUPT', error.message, { cause: error });
  if (error instanceof PrivateFileError) {
    const code = error.code === 'TOO_LARGE' ? 'CACHE.TOO_LARGE' : 'CACHE.UNSAFE_FILE';
    return new CacheError(code, error.message, { cause: error });
  }
  return new CacheError('CACHE.IO_FAILED', `could not ${operation} ${path} (${errorCode(error) ?? 'unknown error'})`, {
    cause: error,
  });
}
