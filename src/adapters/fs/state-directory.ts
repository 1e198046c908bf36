import { promises as fs, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../ports/logger.port.js';
import {
  createPrivateFile,
  ensurePrivateDirectory,
  errorCode,
  moveBackIfAbsent,
  readPrivateFile,
  removeFile,
  renameIfPresent,
  restrictToOwner,
  TEMPORARY_FILE_PATTERN,
  writePrivateFile,
} from './private-files.js';

/** How old a leftover temporary file must be before it is removed: a younger one may be another agent's write in progress. */
export const LEFTOVER_MIN_AGE_MS = 60_000;

/** The directory is not ours to use: another user owns it, or group or others can write to it. */
export class UntrustedDirectoryError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cache directory ${path} is not used: ${reason}`);
    this.name = 'UntrustedDirectoryError';
  }
}

/**
 * Why an existing directory cannot hold our state, e.g. `owned by uid 65534` or `writable by others
 * (mode 1777)`; null when it can. Anyone who can write to a directory can plant, replace or remove
 * the files in it, sticky bit or not (they can create the names we have not created yet).
 */
export function distrustOf(stats: Pick<Stats, 'uid' | 'mode'>, uid: number | null = process.getuid?.() ?? null): string | null {
  if (uid === null) return null; // no POSIX owners and modes on this platform
  const reasons: string[] = [];
  if (stats.uid !== uid) reasons.push(`owned by uid ${stats.uid}`);
  const writers = [(stats.mode & 0o020) !== 0 && 'group', (stats.mode & 0o002) !== 0 && 'others'].filter(Boolean);
  if (writers.length > 0) reasons.push(`writable by ${writers.join(' and ')} (mode ${octal(stats.mode & 0o7777)})`);
  return reasons.length === 0 ? null : reasons.join(', ');
}

/**
 * The cache directory, and the one gate to it: every read, write, rename, chmod and removal of a
 * file in it first checks that the directory is trusted (`distrustOf`). One that is not is never
 * used — nothing in it is read, written or removed — each operation fails with
 * `UntrustedDirectoryError`, and a WARN names the path and the reason once. A missing directory is
 * created (mode 0700, parents included) by the first write; reads find nothing in it.
 *
 * Files are named relative to the directory (`name`, never a path). Every file replaced, re-moded
 * or removed for a reason other than a routine update is logged at WARN.
 */
export class StateDirectory {
  #reportedDistrust: string | null = null;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  pathOf(name: string): string {
    if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new Error(`not a file name: ${JSON.stringify(name)}`);
    return join(this.path, name);
  }

  /** The bytes of `name` (at most `maxBytes`, see `readPrivateFile`); null when it or the directory does not exist. */
  async read(name: string, maxBytes: number): Promise<Buffer | null> {
    return (await this.#gate(false)) ? readPrivateFile(this.pathOf(name), maxBytes) : null;
  }

  /**
   * Replaces `name` atomically with `data` (mode 0600). When what it replaces was not a file we
   * wrote — a link, another owner, a loosened mode, or content the caller found `unusable` (e.g.
   * `held no usable token`) — a WARN says so.
   */
  async write(name: string, data: string, unusable?: string): Promise<void> {
    await this.#gate(true);
    const path = this.pathOf(name);
    const replaced = [unusable, await oddityOf(path)].filter(Boolean).join(' and ');
    await writePrivateFile(path, data);
    if (replaced !== '') this.logger.warn(`Replaced ${path}, which ${replaced}`, { path });
  }

  /** Creates `name` with `data` unless it exists (see `createPrivateFile`); false when it existed. */
  async create(name: string, data: string): Promise<boolean> {
    await this.#gate(true);
    return createPrivateFile(this.pathOf(name), data);
  }

  /** Renames `name` (a link itself, never its target) to `to`; false when `name` does not exist. */
  async rename(name: string, to: string): Promise<boolean> {
    return (await this.#gate(false)) && renameIfPresent(this.pathOf(name), this.pathOf(to));
  }

  /** Moves `from` back to `to` unless `to` exists again (see `moveBackIfAbsent`). */
  async moveBackIfAbsent(from: string, to: string): Promise<boolean> {
    return (await this.#gate(false)) && moveBackIfAbsent(this.pathOf(from), this.pathOf(to));
  }

  /** The names of the entries in the directory that start with `prefix`; none when it does not exist. */
  async list(prefix: string): Promise<string[]> {
    if (!(await this.#gate(false))) return [];
    return (await fs.readdir(this.path)).filter((name) => name.startsWith(prefix));
  }

  async remove(name: string): Promise<void> {
    if (await this.#gate(false)) await removeFile(this.pathOf(name));
  }

  /** Makes `name` mode 0600 again if it was loosened (WARN with the mode it had). */
  async restrictToOwner(name: string): Promise<void> {
    if (!(await this.#gate(false))) return;
    const path = this.pathOf(name);
    const previous = await restrictToOwner(path);
    if (previous !== null) this.logger.warn(`Restored mode 0600 on ${path} (was ${octal(previous)})`, { path });
  }

  /**
   * Removes the temporary files a crash during a write left behind (`<file>.<uuid>.tmp`, regular
   * files only, never a link's target), each with a WARN. Only those older than `minAgeMs`: a
   * younger one may belong to another agent process writing at this moment.
   */
  async removeLeftovers(minAgeMs = LEFTOVER_MIN_AGE_MS, now = Date.now()): Promise<void> {
    if (!(await this.#gate(false))) return;
    for (const name of await fs.readdir(this.path)) {
      if (!TEMPORARY_FILE_PATTERN.test(name)) continue;
      const path = this.pathOf(name);
      const stats = await lstatIfPresent(path);
      if (stats === null || !stats.isFile() || now - stats.mtimeMs < minAgeMs) continue;
      await removeFile(path);
      this.logger.warn(`Removed ${path}, left behind by an interrupted write`, { path });
    }
  }

  /**
   * The gate. True when the directory exists and is trusted; false when it does not exist (and
   * `create` is false). Throws `UntrustedDirectoryError` when it must not be used.
   */
  async #gate(create: boolean): Promise<boolean> {
    if (create) await ensurePrivateDirectory(this.path);
    const stats = await statIfPresent(this.path);
    if (stats === null) return false;
    if (!stats.isDirectory()) throw Object.assign(new Error(`${this.path} is not a directory`), { code: 'ENOTDIR' });
    const distrust = distrustOf(stats);
    if (distrust !== this.#reportedDistrust && distrust !== null) {
      this.logger.warn(`Cache directory ${this.path} is not used: ${distrust}; nothing is read from or written to it`, {
        path: this.path,
        reason: distrust,
      });
    }
    this.#reportedDistrust = distrust;
    if (distrust !== null) throw new UntrustedDirectoryError(this.path, distrust);
    return true;
  }
}

/** What makes the entry at `path` something other than a file we wrote; null for ours, or none. */
async function oddityOf(path: string): Promise<string | null> {
  const stats = await lstatIfPresent(path);
  if (stats === null) return null;
  if (stats.isSymbolicLink()) return 'was a symbolic link';
  if (!stats.isFile()) return 'was not a regular file';
  if (distrustOf({ uid: stats.uid, mode: 0 }) !== null) return `was owned by uid ${stats.uid}`;
  if ((stats.mode & 0o077) !== 0) return `had mode ${octal(stats.mode & 0o777)}`;
  return null;
}

async function statIfPresent(path: string): Promise<Stats | null> {
  return fs.stat(path).catch(nullIfMissing);
}

async function lstatIfPresent(path: string): Promise<Stats | null> {
  return fs.lstat(path).catch(nullIfMissing);
}

function nullIfMissing(error: unknown): null {
  if (errorCode(error) === 'ENOENT') return null;
  throw error;
}

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');
