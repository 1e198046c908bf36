import { closeSync, constants, fstatSync, openSync, promises as fs, readSync, type Stats } from 'node:fs';

const { O_RDONLY, O_NONBLOCK } = constants;

export type BoundedFileErrorCode = 'UNREADABLE' | 'NOT_A_REGULAR_FILE' | 'TOO_LARGE';

/** A file `readBoundedRegularFile` refuses. `message` is `<path>: <reason>`; `reason` alone lets callers name the file their way. */
export class BoundedFileError extends Error {
  constructor(
    readonly code: BoundedFileErrorCode,
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${reason}`, options);
    this.name = 'BoundedFileError';
  }
}

/**
 * Reads the whole of a regular file of at most `maxBytes` bytes, without ever blocking on it:
 * opened with `O_NONBLOCK` (a FIFO with no writer would otherwise hang the caller for ever), then
 * `fstat` on the open descriptor refuses anything but a regular file, and a size over `maxBytes` is
 * refused before reading. At most `maxBytes + 1` bytes are read, so a file that grew since `fstat`
 * (or lies about its size, like `/proc` files) is refused too.
 *
 * Symbolic links are followed: Kubernetes mounts ConfigMaps and Secrets through them.
 *
 * @returns the file's bytes (length 0 to `maxBytes`).
 * @throws BoundedFileError `UNREADABLE` ("cannot be read (ENOENT)", with the errno code),
 *   `NOT_A_REGULAR_FILE` ("not a regular file (a FIFO)"), `TOO_LARGE` ("larger than N bytes").
 * @throws RangeError when `maxBytes` is not a non-negative safe integer (a programming error).
 */
export async function readBoundedRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, O_RDONLY | O_NONBLOCK);
  } catch (error) {
    throw unreadable(path, error);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new BoundedFileError('NOT_A_REGULAR_FILE', path, `not a regular file (${kindOf(stats)})`);
    if (stats.size > maxBytes) throw tooLarge(path, maxBytes);
    const bytes = await readAtMost(handle, maxBytes + 1).catch((error: unknown) => {
      throw unreadable(path, error);
    });
    if (bytes.length > maxBytes) throw tooLarge(path, maxBytes);
    return bytes;
  } finally {
    await handle.close();
  }
}

/**
 * `readBoundedRegularFile`, synchronously, with the same rules and errors: for configuration read
 * once at start-up (`*_FILE` secrets), where `loadConfig` is synchronous.
 */
export function readBoundedRegularFileSync(path: string, maxBytes: number): Buffer {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NONBLOCK);
  } catch (error) {
    throw unreadable(path, error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new BoundedFileError('NOT_A_REGULAR_FILE', path, `not a regular file (${kindOf(stats)})`);
    if (stats.size > maxBytes) throw tooLarge(path, maxBytes);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    try {
      while (length < buffer.length) {
        const read = readSync(fd, buffer, length, buffer.length - length, length);
        if (read === 0) break;
        length += read;
      }
    } catch (error) {
      throw unreadable(path, error);
    }
    if (length > maxBytes) throw tooLarge(path, maxBytes);
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/** Reads from the start until end of file or `limit` bytes, whichever comes first (reads may be short). */
async function readAtMost(handle: fs.FileHandle, limit: number): Promise<Buffer> {
  const buffer = Buffer.alloc(limit);
  let length = 0;
  while (length < limit) {
    const { bytesRead } = await handle.read(buffer, length, limit - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a file';
}

function tooLarge(path: string, maxBytes: number): BoundedFileError {
  return new BoundedFileError('TOO_LARGE', path, `larger than ${maxBytes} bytes`);
}

function unreadable(path: string, error: unknown): BoundedFileError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'error';
  return new BoundedFileError('UNREADABLE', path, `cannot be read (${code})`, { cause: error });
}
