import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { CacheError } from '../../domain/model/errors.js';
import type { Clock } from '../../ports/clock.port.js';
import type { LicenseCache } from '../../ports/license-cache.port.js';
import { withDeadline } from '../fs/deadline.js';
import { ensurePrivateDirectory, errorCode, PrivateFileError, removeFile, renameIfPresent } from '../fs/private-files.js';
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

/** The last license JWT the backend issued, in `<cache dir>/license-cache.json`. */
export class LowdbLicenseCache implements LicenseCache {
  readonly #file: PrivateJsonFile<CacheDocument>;
  readonly #db: Low<CacheDocument>;

  constructor(
    private readonly directory: string,
    private readonly clock: Clock,
    private readonly readDeadlineMs = CACHE_READ_DEADLINE_MS,
  ) {
    this.#file = new PrivateJsonFile(join(directory, LICENSE_CACHE_FILE), parseCacheDocument);
    this.#db = new Low(this.#file, EMPTY);
  }

  /** The cached JWT; `CACHE.TIMEOUT` when the disk does not answer within the read deadline. */
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
      if (error instanceof CacheError) throw error;
      throw toCacheError(error, 'read', this.#file.path);
    }
  }

  async save(jwt: string): Promise<void> {
    try {
      await ensurePrivateDirectory(this.directory);
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
      const existing = await this.#rejectedFiles();
      let name = `${REJECTED_PREFIX}${stamp}`;
      for (let n = 1; existing.includes(name); n += 1) name = `${REJECTED_PREFIX}${stamp}-${n}`;
      const aside = join(this.directory, name);
      if (!(await renameIfPresent(this.#file.path, aside))) return null;
      const surplus = [...existing, name].sort().slice(0, -REJECTED_CACHE_FILES_KEPT);
      for (const old of surplus) await removeFile(join(this.directory, old));
      return aside;
    } catch (error) {
      throw toCacheError(error, 'set aside', this.#file.path);
    }
  }

  async #rejectedFiles(): Promise<string[]> {
    try {
      return (await fs.readdir(this.directory)).filter((name) => name.startsWith(REJECTED_PREFIX));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw error;
    }
  }
}

/** A file-system or content failure on `path`, as the `CacheError` callers act on. */
export function toCacheError(error: unknown, operation: string, path: string): CacheError {
  if (error instanceof CorruptFileError) return new CacheError('CACHE.CORRUPT', error.message, { cause: error });
  if (error instanceof PrivateFileError) {
    const code = error.code === 'TOO_LARGE' ? 'CACHE.TOO_LARGE' : 'CACHE.UNSAFE_FILE';
    return new CacheError(code, error.message, { cause: error });
  }
  return new CacheError('CACHE.IO_FAILED', `could not ${operation} ${path} (${errorCode(error) ?? 'unknown error'})`, {
    cause: error,
  });
}
