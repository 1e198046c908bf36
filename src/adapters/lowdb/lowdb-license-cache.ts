import { Low } from 'lowdb';
import { CacheError } from '../../domain/model/errors.js';
import type { Clock } from '../../ports/clock.port.js';
import type { LicenseCache } from '../../ports/license-cache.port.js';
import { errorCode, PrivateFileError } from '../fs/private-files.js';
import { UntrustedDirectoryError, type StateDirectory } from '../fs/state-directory.js';
import { CorruptFileError, PrivateJsonFile } from './private-json-file.js';

export const LICENSE_CACHE_FILE = 'license-cache.json';

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
 * read, written or deleted), `CACHE.CORRUPT`, `CACHE.TOO_LARGE`, `CACHE.UNSAFE_FILE`, `CACHE.IO_FAILED`.
 */
export class LowdbLicenseCache implements LicenseCache {
  readonly #file: PrivateJsonFile<CacheDocument>;
  readonly #db: Low<CacheDocument>;

  constructor(
    directory: StateDirectory,
    private readonly clock: Clock,
  ) {
    this.#file = new PrivateJsonFile(directory, LICENSE_CACHE_FILE, parseCacheDocument);
    this.#db = new Low(this.#file, EMPTY);
  }

  async load(): Promise<string | null> {
    try {
      this.#db.data = EMPTY;
      await this.#db.read();
      return this.#db.data.jwt;
    } catch (error) {
      throw translate(error, 'read', this.#file.path);
    }
  }

  async save(jwt: string): Promise<void> {
    try {
      this.#db.data = { jwt, saved_at: this.clock.now().toISOString() };
      await this.#db.write();
    } catch (error) {
      throw translate(error, 'write', this.#file.path);
    }
  }

  async clear(): Promise<void> {
    try {
      await this.#file.remove();
    } catch (error) {
      throw translate(error, 'delete', this.#file.path);
    }
  }
}

function translate(error: unknown, operation: string, path: string): CacheError {
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
