import { randomUUID } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

export type PrivateFileErrorCode = 'SYMLINK' | 'NOT_A_FILE' | 'TOO_LARGE';

/** A file we refuse to read because it is not what we wrote. */
export class PrivateFileError extends Error {
  constructor(
    readonly code: PrivateFileErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PrivateFileError';
  }
}

/**
 * Creates `dir` and its missing parents with mode 0700 exactly, whatever the umask. Directories that
 * already exist keep their mode: whether one may be used is `StateDirectory`'s decision, not a
 * chmod's (an operator's shared 1777 directory must not silently become private).
 */
export async function ensurePrivateDirectory(dir: string): Promise<void> {
  const first = await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return; // it existed already
  const top = resolve(first);
  for (let created = resolve(dir); created === top || created.startsWith(`${top}${sep}`); created = dirname(created)) {
    await fs.chmod(created, 0o700);
    if (created === top) break;
  }
}

/**
 * Makes an existing regular file owner-only (0600), never following a link. Returns the permission
 * bits it had when they had to be changed (for the caller's log), null when the file was already
 * owner-only, is missing, or is not a regular file.
 */
export async function restrictToOwner(path: string): Promise<number | null> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ELOOP') return null;
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || (stats.mode & 0o077) === 0) return null;
    await handle.chmod(0o600);
    return stats.mode & 0o777;
  } finally {
    await handle.close();
  }
}

/**
 * Reads a regular file of at most `maxBytes`, refusing symbolic links, FIFOs and devices.
 * Returns null when the file does not exist.
 */
export async function readPrivateFile(path: string, maxBytes: number): Promise<Buffer | null> {
  let handle: fs.FileHandle;
  try {
    // O_NONBLOCK: opening a planted FIFO must not hang start-up.
    handle = await fs.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    if (errorCode(error) === 'ELOOP') throw new PrivateFileError('SYMLINK', `${path} is a symbolic link`);
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new PrivateFileError('NOT_A_FILE', `${path} is not a regular file`);
    if (stats.size > maxBytes) throw tooLarge(path, maxBytes);
    // Read one byte more than allowed: the file may have grown since fstat.
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > maxBytes) throw tooLarge(path, maxBytes);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` atomically with owner-only permissions: readers see the old content or the new,
 * never a partial file. The temporary file is created exclusively so a planted link cannot redirect it.
 */
export async function writePrivateFile(path: string, data: string): Promise<void> {
  const temporary = await writeTemporaryFile(path, data);
  try {
    await fs.rename(temporary, path);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/**
 * Creates `path` with `data` only if it does not exist yet, atomically (no reader ever sees it
 * half-written, and of two racing writers exactly one wins). Returns false when it already existed.
 */
export async function createPrivateFile(path: string, data: string): Promise<boolean> {
  const temporary = await writeTemporaryFile(path, data);
  try {
    await fs.link(temporary, path);
    await syncDirectory(dirname(path));
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await fs.rm(temporary, { force: true });
  }
}

/** Renames `path` (a symbolic link itself, never its target) to `to`; false when `path` is gone. */
export async function renameIfPresent(path: string, to: string): Promise<boolean> {
  try {
    await fs.rename(path, to);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
  await syncDirectory(dirname(path));
  return true;
}

/** Moves `from` back to `path` unless `path` exists again, in which case `from` stays and false is returned. */
export async function moveBackIfAbsent(from: string, path: string): Promise<boolean> {
  try {
    await fs.link(from, path);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  await fs.rm(from, { force: true });
  await syncDirectory(dirname(path));
  return true;
}

export async function removeFile(path: string): Promise<void> {
  await fs.rm(path, { force: true });
}

/**
 * The temporary files `writeTemporaryFile` names `<file>.<random UUID>.tmp`: a crash between
 * their creation and their rename leaves one behind (`StateDirectory.removeLeftovers`).
 */
export const TEMPORARY_FILE_PATTERN = /^[^/]+\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.tmp$/;

async function writeTemporaryFile(path: string, data: string): Promise<string> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  const handle = await fs.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    await handle.chmod(0o600); // exactly 0600, whatever the umask
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  return temporary;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, O_RDONLY);
  try {
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  } finally {
    await handle.close();
  }
}

function tooLarge(path: string, maxBytes: number): PrivateFileError {
  return new PrivateFileError('TOO_LARGE', `${path} is larger than ${maxBytes} bytes`);
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
