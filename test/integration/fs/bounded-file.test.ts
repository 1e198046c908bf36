import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BoundedFileError, readBoundedRegularFile, type BoundedFileErrorCode } from '../../../src/adapters/fs/bounded-file.js';
import { makeFifo } from '../../support/file-system.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

const MAX_BYTES = 64;

let dir: string;

beforeEach(() => {
  dir = makeTempDir('bounded-file-');
});

afterEach(() => {
  removeTempDir(dir);
});

function fileWith(content: string | Buffer, name = 'file.json'): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function refusal(promise: Promise<unknown>): Promise<BoundedFileError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BoundedFileError) return error;
    throw error;
  }
  throw new Error('expected a BoundedFileError, but the file was read');
}

async function expectRefused(path: string, code: BoundedFileErrorCode, message: string, maxBytes = MAX_BYTES): Promise<void> {
  const error = await refusal(readBoundedRegularFile(path, maxBytes));
  expect({ code: error.code, message: error.message, path: error.path }).toStrictEqual({ code, message, path });
}

describe('readBoundedRegularFile', () => {
  it('reads a regular file whole', async () => {
    const content = Buffer.from('{"keys":[]}\n');

    expect(await readBoundedRegularFile(fileWith(content), MAX_BYTES)).toEqual(content);
  });

  it('reads an empty file', async () => {
    expect(await readBoundedRegularFile(fileWith(''), MAX_BYTES)).toHaveLength(0);
  });

  it('reads a file of exactly maxBytes', async () => {
    const content = Buffer.alloc(MAX_BYTES, 0x61);

    expect(await readBoundedRegularFile(fileWith(content), MAX_BYTES)).toEqual(content);
  });

  it('refuses a file of maxBytes + 1, naming it', async () => {
    const path = fileWith(Buffer.alloc(MAX_BYTES + 1, 0x61));

    await expectRefused(path, 'TOO_LARGE', `${path}: larger than ${MAX_BYTES} bytes`);
  });

  it('follows a symbolic link to a regular file (how Kubernetes mounts ConfigMaps and Secrets)', async () => {
    mkdirSync(join(dir, '..2026_06_01'));
    fileWith('{"keys":[]}', join('..2026_06_01', 'keys.json'));
    symlinkSync('..2026_06_01', join(dir, '..data'));
    const path = join(dir, 'keys.json');
    symlinkSync(join('..data', 'keys.json'), path);

    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    expect((await readBoundedRegularFile(path, MAX_BYTES)).toString()).toBe('{"keys":[]}');
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const path = join(dir, 'keys.json');
    makeFifo(path);

    await expectRefused(path, 'NOT_A_REGULAR_FILE', `${path}: not a regular file (a FIFO)`);
  });

  it('refuses a symbolic link to a FIFO', async () => {
    makeFifo(join(dir, 'pipe'));
    const path = join(dir, 'keys.json');
    symlinkSync('pipe', path);

    await expectRefused(path, 'NOT_A_REGULAR_FILE', `${path}: not a regular file (a FIFO)`);
  });

  it('refuses a directory', async () => {
    await expectRefused(dir, 'NOT_A_REGULAR_FILE', `${dir}: not a regular file (a directory)`);
  });

  it('refuses a character device', async () => {
    await expectRefused('/dev/zero', 'NOT_A_REGULAR_FILE', '/dev/zero: not a regular file (a character device)');
  });

  it('refuses a missing file, and a dangling link, with the errno code', async () => {
    const missing = join(dir, 'missing.json');
    const dangling = join(dir, 'dangling.json');
    symlinkSync('missing.json', dangling);

    await expectRefused(missing, 'UNREADABLE', `${missing}: cannot be read (ENOENT)`);
    await expectRefused(dangling, 'UNREADABLE', `${dangling}: cannot be read (ENOENT)`);
  });

  describe('a regular file whose size says 0 but which has content (as a file that grew after fstat)', () => {
    const procFile = '/proc/self/status';

    it('is read whole by its content, not by its stated size', async () => {
      const bytes = await readBoundedRegularFile(procFile, 64 * 1024);

      expect(bytes.toString()).toMatch(/^Name:/);
    });

    it('is refused when its content is over maxBytes, though fstat said 0', async () => {
      await expectRefused(procFile, 'TOO_LARGE', `${procFile}: larger than ${MAX_BYTES} bytes`);
    });
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxBytes %p as a programming error', async (maxBytes) => {
    await expect(readBoundedRegularFile(fileWith('x'), maxBytes)).rejects.toThrow(RangeError);
  });
});
