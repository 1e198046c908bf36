import { Low } from 'lowdb';
import { CacheError } from '../../domain/model/errors.js';
import type { Clock } from '../../ports/clock.port.js';
import type { LicenseCache } from '../../ports/license-cache.port.js';
import { withDeadline } from '../fs/deadline.js';
import { errorCode, PrivateFileError } from '../fs/private-files.js';
import { UntrustedDirectoryError, type StateDirectory } from '../fs/state-directory.js';
import { CorruptFileError, PrivateJsonFile } from './private-json-file.js';

export const LICENSE_CACHE_FILE = 'license-cache.json';
/**
 * The original product's cache file (DESIGN §8, compatibility): the JWT alone, as the Scala server
 * writes it, perhaps with a trailing newline. Read when `license-cache.json` is absent; never written.
 */
export const ORIGINAL_LICENSE_CACHE_FILE = 'license-cache.jwt';
/** The longest a read of the cache may hold up a resolution (start-up readiness included). */
export const CACHE_READ_DEADLINE_MS = 2_000;
/** How many rejected cache files are kept for the operator, per form; older ones are removed. */
export const REJECTED_CACHE_FILES_KEPT = 3;
const MAX_CACHE_BYTES = 64 * 1024;

type CacheFileName = typeof LICENSE_CACHE_FILE | typeof ORIGINAL_LICENSE_CACHE_FILE;

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
 * The original form's text as a JWT: ASCII whitespace around it trimmed (the original writes a
 * trailing newline at times, and trims on reading) — here only, since the verifier's canonical-form
 * check refuses any whitespace. Anything else (a byte-order mark included) is left for the verifier
 * to refuse. Null when nothing is left, which the original reads as no cache either.
 */
function parseOriginalCacheFile(bytes: Buffer, path: string): string | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new CorruptFileError(path, 'not valid UTF-8');
  }
  const jwt = text.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '');
  return jwt === '' ? null : jwt;
}

/**
 * The last license JWT the backend issued, in `<cache dir>/license-cache.json` — or, while that
 * file is absent, the original product's `license-cache.jwt`, read through the same gate (no link,
 * no FIFO, at most 64 KiB) and never written: the next save writes `license-cache.json`, which wins
 * from then on, and leaves the old file where it is. Fails with
 * `CacheError`: `CACHE.UNSAFE_DIRECTORY` when the cache directory is not trusted (nothing in it is
 * read, written or deleted), `CACHE.CORRUPT`, `CACHE.TOO_LARGE`, `CACHE.UNSAFE_FILE`,
 * `CACHE.TIMEOUT` (a read slower than its deadline), `CACHE.IO_FAILED`.
 */
export class LowdbLicenseCache implements LicenseCache {
  readonly #file: PrivateJsonFile<CacheDocument>;
  readonly #db: Low<CacheDocument>;
  /** The file the last `load` returned a JWT from: the one `setAside` moves. */
  #loadedFrom: CacheFileName = LICENSE_CACHE_FILE;

  constructor(
    private readonly directory: StateDirectory,
    private readonly clock: Clock,
    private readonly readDeadlineMs = CACHE_READ_DEADLINE_MS,
  ) {
    this.#file = new PrivateJsonFile(directory, LICENSE_CACHE_FILE, parseCacheDocument);
    this.#db = new Low(this.#file, EMPTY);
  }

  async load(): Promise<string | null> {
    this.#loadedFrom = LICENSE_CACHE_FILE;
    const { jwt, from } = await withDeadline(
      this.#read(),
      this.readDeadlineMs,
      () => new CacheError('CACHE.TIMEOUT', `reading ${this.#file.path} took longer than ${this.readDeadlineMs} ms`),
    );
    this.#loadedFrom = from;
    return jwt;
  }

  /** `license-cache.json`, unless absent: then the original form. A corrupt or unsafe current file does not fall back. */
  async #read(): Promise<{ jwt: string | null; from: CacheFileName }> {
    try {
      this.#db.data = EMPTY;
      await this.#db.read();
    } catch (error) {
      throw toCacheError(error, 'read', this.#file.path);
    }
    if (this.#db.data.jwt !== null) return { jwt: this.#db.data.jwt, from: LICENSE_CACHE_FILE };
    const path = this.directory.pathOf(ORIGINAL_LICENSE_CACHE_FILE);
    try {
      const bytes = await this.directory.read(ORIGINAL_LICENSE_CACHE_FILE, MAX_CACHE_BYTES);
      const jwt = bytes === null ? null : parseOriginalCacheFile(bytes, path);
      return { jwt, from: jwt === null ? LICENSE_CACHE_FILE : ORIGINAL_LICENSE_CACHE_FILE };
    } catch (error) {
      throw toCacheError(error, 'read', path);
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
   * Renames the cache file the last `load` read (a planted link as a link) to
   * `<file>.rejected-<UTC time>` — `license-cache.json.rejected-…`, or `license-cache.jwt.rejected-…`
   * for the original form, so that its name still says what it holds — and removes all but the
   * newest `REJECTED_CACHE_FILES_KEPT` such files of that form.
   */
  async setAside(): Promise<string | null> {
    const file = this.#loadedFrom;
    const prefix = `${file}.rejected-`;
    try {
      const stamp = this.clock.now().toISOString().replace(/[-:]/g, '');
      const existing = await this.directory.list(prefix);
      // Within one millisecond: -1, -2, … after the highest taken, never a freed lower number.
      const taken = existing.map((name) => rejectedOrder(name.slice(prefix.length))).filter(([at]) => at === stamp);
      const name = taken.length === 0 ? `${prefix}${stamp}` : `${prefix}${stamp}-${Math.max(...taken.map(([, n]) => n)) + 1}`;
      if (!(await this.directory.rename(file, name))) return null;
      this.#loadedFrom = LICENSE_CACHE_FILE;
      const byAge = (a: string, b: string) => compareRejected(rejectedOrder(a.slice(prefix.length)), rejectedOrder(b.slice(prefix.length)));
      const surplus = [...existing, name].sort(byAge).slice(0, -REJECTED_CACHE_FILES_KEPT);
      for (const old of surplus) await this.directory.remove(old);
      return this.directory.pathOf(name);
    } catch (error) {
      throw toCacheError(error, 'set aside', this.directory.pathOf(file));
    }
  }
}

/** A set-aside file's place in time from its suffix `<UTC stamp>[-<n>]`: the stamp, then n (0 without). */
function rejectedOrder(suffix: string): [string, number] {
  const dash = suffix.indexOf('-');
  return dash === -1 ? [suffix, 0] : [suffix.slice(0, dash), Number(suffix.slice(dash + 1)) || 0];
}

function compareRejected([atA, nA]: [string, number], [atB, nB]: [string, number]): number {
  return atA < atB ? -1 : atA > atB ? 1 : nA - nB;
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
