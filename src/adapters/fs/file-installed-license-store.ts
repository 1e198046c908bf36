import { CacheError } from '../../domain/model/errors.js';
import type { InstalledLicenseStore } from '../../ports/installed-license-store.port.js';
import { errorCode, PrivateFileError } from './private-files.js';
import { UntrustedDirectoryError, type StateDirectory } from './state-directory.js';

export const INSTALLED_LICENSE_FILE = 'static-license.jwt';
/** The file holds one token (the verifier refuses more than 16 KiB); read with the cache files' 64 KiB cap. */
const MAX_FILE_BYTES = 64 * 1024;

/**
 * The license installed with `PUT /admin/license`, as plain text in `<cache dir>/static-license.jwt`
 * (mode 0600, written atomically, through the cache directory's gate like every other file there).
 * Fails with `CacheError`: `CACHE.UNSAFE_DIRECTORY`, `CACHE.UNSAFE_FILE`, `CACHE.TOO_LARGE`,
 * `CACHE.CORRUPT` (not UTF-8, or empty), `CACHE.IO_FAILED`.
 */
export class FileInstalledLicenseStore implements InstalledLicenseStore {
  constructor(private readonly directory: StateDirectory) {}

  get path(): string {
    return this.directory.pathOf(INSTALLED_LICENSE_FILE);
  }

  async load(): Promise<string | null> {
    let bytes: Buffer | null;
    try {
      bytes = await this.directory.read(INSTALLED_LICENSE_FILE, MAX_FILE_BYTES);
    } catch (error) {
      throw this.#cacheError(error, 'read');
    }
    if (bytes === null) return null;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).trim();
    } catch {
      throw new CacheError('CACHE.CORRUPT', `${this.path} is corrupt: not valid UTF-8`);
    }
    if (text === '') throw new CacheError('CACHE.CORRUPT', `${this.path} is empty`);
    return text;
  }

  async save(jwt: string): Promise<void> {
    try {
      await this.directory.write(INSTALLED_LICENSE_FILE, `${jwt}\n`);
    } catch (error) {
      throw this.#cacheError(error, 'write');
    }
  }

  async remove(): Promise<boolean> {
    try {
      if (!(await this.directory.list(INSTALLED_LICENSE_FILE)).includes(INSTALLED_LICENSE_FILE)) return false;
      await this.directory.remove(INSTALLED_LICENSE_FILE);
      return true;
    } catch (error) {
      throw this.#cacheError(error, 'remove');
    }
  }

  #cacheError(error: unknown, operation: string): CacheError {
    if (error instanceof CacheError) return error;
    if (error instanceof UntrustedDirectoryError) return new CacheError('CACHE.UNSAFE_DIRECTORY', error.message, { cause: error });
    if (error instanceof PrivateFileError) {
      return new CacheError(error.code === 'TOO_LARGE' ? 'CACHE.TOO_LARGE' : 'CACHE.UNSAFE_FILE', error.message, { cause: error });
    }
    return new CacheError('CACHE.IO_FAILED', `could not ${operation} ${this.path} (${errorCode(error) ?? 'unknown error'})`, { cause: error });
  }
}
