import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createPrivateFile,
  ensurePrivateDirectory,
  errorCode,
  moveBackIfAbsent,
  PrivateFileError,
  readPrivateFile,
  removeFile,
  renameIfPresent,
  restrictToOwner,
  TEMPORARY_FILE_PATTERN,
  writePrivateFile,
  type PrivateFileErrorCode,
} from '../../../src/adapters/fs/private-files.js';
import { entriesOf, makeFifo, permissionsOf, withUmask } from '../../support/file-system.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

/** The built module, for a writer in a child process that the test kills mid-write. */
const BUILT_PRIVATE_FILES = fileURLToPath(new URL('../../../dist/adapters/fs/private-files.js', import.meta.url));

let dir: string;

beforeEach(() => {
  dir = makeTempDir('private-files-');
});

afterEach(() => {
  removeTempDir(dir);
});

async function privateFileErrorFrom(promise: Promise<unknown>): Promise<PrivateFileError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PrivateFileError) return error;
    throw error;
  }
  throw new Error('expected a PrivateFileError, but the promise resolved');
}

async function expectRefused(promise: Promise<unknown>, code: PrivateFileErrorCode): Promise<void> {
  const error = await privateFileErrorFrom(promise);
  expect(error.code).toBe(code);
}

describe('ensurePrivateDirectory', () => {
  it('creates a missing directory, and its missing parents, readable by the owner only even with umask 0', async () => {
    const parent = join(dir, 'home');
    const cacheDir = join(parent, '.softclient4es');

    await withUmask(() => ensurePrivateDirectory(cacheDir));

    expect(lstatSync(cacheDir).isDirectory()).toBe(true);
    expect(permissionsOf(cacheDir)).toBe(0o700);
    expect(permissionsOf(parent)).toBe(0o700);
  });

  it('creates missing directories exactly 0700, even under a umask that would remove the owner’s write bit', async () => {
    const parent = join(dir, 'home');
    const cacheDir = join(parent, '.softclient4es');

    await withUmask(() => ensurePrivateDirectory(cacheDir), 0o277);

    expect(permissionsOf(cacheDir)).toBe(0o700);
    expect(permissionsOf(parent)).toBe(0o700);
  });

  it.each([
    ['1777', 0o1777],
    ['0755', 0o755],
    ['0750', 0o750],
    ['0777', 0o777],
  ])('never changes the mode of an existing directory (%s stays)', async (_mode, mode) => {
    const existing = join(dir, 'existing');
    mkdirSync(existing);
    chmodSync(existing, mode);

    await ensurePrivateDirectory(join(existing, 'cache'));
    await ensurePrivateDirectory(existing);

    expect(lstatSync(existing).mode & 0o7777).toBe(mode);
    expect(permissionsOf(join(existing, 'cache'))).toBe(0o700);
  });

  it('accepts a symbolic link to a directory (an operator may relocate the cache)', async () => {
    const real = join(dir, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(dir, 'linked'));

    await expect(ensurePrivateDirectory(join(dir, 'linked'))).resolves.toBeUndefined();
  });

  it('rejects a path that is a regular file', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');

    await expect(ensurePrivateDirectory(file)).rejects.toThrow();
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('readPrivateFile', () => {
  it('returns exactly the bytes of a regular file', async () => {
    const path = join(dir, 'doc.json');
    writeFileSync(path, '{"jwt":"abc"}\n');

    const bytes = await readPrivateFile(path, 1024);

    expect(bytes?.toString('utf8')).toBe('{"jwt":"abc"}\n');
  });

  it('returns null when the file does not exist', async () => {
    await expect(readPrivateFile(join(dir, 'missing.json'), 1024)).resolves.toBeNull();
  });

  it('reads a file of exactly the size limit', async () => {
    const path = join(dir, 'full.bin');
    writeFileSync(path, Buffer.alloc(100, 0x61));

    const bytes = await readPrivateFile(path, 100);

    expect(bytes?.length).toBe(100);
  });

  it('refuses a file one byte over the size limit with TOO_LARGE', async () => {
    const path = join(dir, 'big.bin');
    writeFileSync(path, Buffer.alloc(101, 0x61));

    await expectRefused(readPrivateFile(path, 100), 'TOO_LARGE');
  });

  it('refuses a 64 KiB + 1 byte file against the 64 KiB cache limit', async () => {
    const path = join(dir, 'license-cache.json');
    writeFileSync(path, Buffer.alloc(64 * 1024 + 1, 0x20));

    await expectRefused(readPrivateFile(path, 64 * 1024), 'TOO_LARGE');
  });

  it('refuses a symbolic link to a readable regular file instead of following it', async () => {
    const target = join(dir, 'elsewhere.json');
    writeFileSync(target, '{"jwt":"planted"}');
    const link = join(dir, 'license-cache.json');
    symlinkSync(target, link);

    await expectRefused(readPrivateFile(link, 1024), 'SYMLINK');
  });

  it('refuses a dangling symbolic link rather than reporting the file as absent', async () => {
    const link = join(dir, 'license-cache.json');
    symlinkSync(join(dir, 'nowhere'), link);

    await expectRefused(readPrivateFile(link, 1024), 'SYMLINK');
  });

  it('refuses a FIFO with no writer without blocking', async () => {
    const fifo = join(dir, 'license-cache.json');
    makeFifo(fifo);

    await expectRefused(readPrivateFile(fifo, 1024), 'NOT_A_FILE');
  }, 5_000);

  it('refuses a directory', async () => {
    const subdir = join(dir, 'license-cache.json');
    mkdirSync(subdir);

    await expectRefused(readPrivateFile(subdir, 1024), 'NOT_A_FILE');
  });

  it('refuses a character device', async () => {
    await expectRefused(readPrivateFile('/dev/zero', 1024), 'NOT_A_FILE');
  });
});

describe('writePrivateFile', () => {
  it('writes the file with mode 0600 even with umask 0, leaving no temporary file behind', async () => {
    const path = join(dir, 'license-cache.json');

    await withUmask(() => writePrivateFile(path, '{"jwt":"abc"}\n'));

    expect(readFileSync(path, 'utf8')).toBe('{"jwt":"abc"}\n');
    expect(permissionsOf(path)).toBe(0o600);
    expect(entriesOf(dir)).toEqual(['license-cache.json']);
  });

  it('replaces an existing world-readable file with a 0600 one', async () => {
    const path = join(dir, 'license-cache.json');
    writeFileSync(path, 'old content that is longer than the new one');
    chmodSync(path, 0o644);

    await writePrivateFile(path, 'new');

    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(permissionsOf(path)).toBe(0o600);
    expect(entriesOf(dir)).toEqual(['license-cache.json']);
  });

  it('replaces a symbolic link with a regular file instead of writing through it to its target', async () => {
    const target = join(dir, 'victim');
    writeFileSync(target, 'do not touch');
    const path = join(dir, 'license-cache.json');
    symlinkSync(target, path);

    await writePrivateFile(path, 'cache content');

    expect(lstatSync(path).isSymbolicLink()).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('cache content');
    expect(permissionsOf(path)).toBe(0o600);
    expect(readFileSync(target, 'utf8')).toBe('do not touch');
  });

  it('rejects when the target cannot be replaced (a directory there), and cleans up its temporary file', async () => {
    const path = join(dir, 'license-cache.json');
    mkdirSync(path);

    await expect(writePrivateFile(path, 'content')).rejects.toThrow();

    expect(entriesOf(dir)).toEqual(['license-cache.json']);
    expect(lstatSync(path).isDirectory()).toBe(true);
  });

  it('never lets a concurrent reader see a partly written file', async () => {
    const path = join(dir, 'license-cache.json');
    const large = `${'a'.repeat(48 * 1024)}\n`;
    const small = `${'b'.repeat(8 * 1024)}\n`;
    const documents = [large, small];
    await writePrivateFile(path, large);

    let writing = true;
    const writer = (async () => {
      try {
        for (let round = 0; round < 40; round += 1) await writePrivateFile(path, round % 2 === 0 ? small : large);
      } finally {
        writing = false;
      }
    })();
    const seen = new Set<string>();
    let reads = 0;
    while (writing) {
      seen.add(await readFile(path, 'utf8'));
      reads += 1;
    }
    await writer;

    expect(reads).toBeGreaterThan(0);
    expect([...seen].filter((content) => !documents.includes(content)).map((content) => content.length)).toEqual([]);
  });

  it('leaves the previous or the new document when the writing process is killed mid-write, never a partial one', async () => {
    const path = join(dir, 'license-cache.json');
    const previous = `${'p'.repeat(40 * 1024)}\n`;
    const next = `${'n'.repeat(60 * 1024)}\n`;
    await writePrivateFile(path, previous);
    const writerScript = `
      import { writePrivateFile } from ${JSON.stringify(BUILT_PRIVATE_FILES)};
      const [path, next] = process.argv.slice(1);
      process.stdout.write('writing\\n');
      for (;;) await writePrivateFile(path, next);
    `;

    for (let round = 0; round < 5; round += 1) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', writerScript, path, next], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(child, 'exit');
      const diedBeforeWriting = exited.then(() => {
        throw new Error('the writer process exited before it started writing');
      });
      await Promise.race([once(child.stdout, 'data'), diedBeforeWriting]);
      await new Promise((resolve) => setTimeout(resolve, 5 + round * 7));
      child.kill('SIGKILL');
      await exited;

      const content = readFileSync(path, 'utf8');
      expect(content === previous || content === next).toBe(true);
      expect(permissionsOf(path)).toBe(0o600);
    }
  });
});

describe('createPrivateFile', () => {
  it('creates a missing file with mode 0600 even with umask 0 and reports that it did', async () => {
    const path = join(dir, 'instance.json');

    const created = await withUmask(() => createPrivateFile(path, 'first'));

    expect(created).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('first');
    expect(permissionsOf(path)).toBe(0o600);
    expect(entriesOf(dir)).toEqual(['instance.json']);
  });

  it('never overwrites an existing file, reports false and leaves no temporary file', async () => {
    const path = join(dir, 'instance.json');
    writeFileSync(path, 'original');

    const created = await createPrivateFile(path, 'second');

    expect(created).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('original');
    expect(entriesOf(dir)).toEqual(['instance.json']);
  });

  it('treats a planted dangling symbolic link as existing: its target is not created', async () => {
    const target = join(dir, 'created-through-link');
    const path = join(dir, 'instance.json');
    symlinkSync(target, path);

    const created = await createPrivateFile(path, 'content');

    expect(created).toBe(false);
    expect(existsSync(target)).toBe(false);
    expect(readlinkSync(path)).toBe(target);
  });

  it('lets exactly one of several racing creators win, and the file holds the winner’s content', async () => {
    const path = join(dir, 'instance.json');
    const contents = Array.from({ length: 8 }, (_, index) => `writer-${index}`);

    const results = await Promise.all(contents.map((content) => createPrivateFile(path, content)));

    expect(results.filter(Boolean)).toHaveLength(1);
    expect(readFileSync(path, 'utf8')).toBe(contents[results.indexOf(true)]);
    expect(entriesOf(dir)).toEqual(['instance.json']);
  });
});

describe('restrictToOwner', () => {
  it('makes a loosened regular file 0600 and returns the permissions it had', async () => {
    const path = join(dir, 'admin-token');
    writeFileSync(path, 'x');
    chmodSync(path, 0o644);

    await expect(restrictToOwner(path)).resolves.toBe(0o644);
    expect(permissionsOf(path)).toBe(0o600);
  });

  it('leaves an owner-only file alone (null), even one the owner cannot write', async () => {
    const path = join(dir, 'admin-token');
    writeFileSync(path, 'x');
    chmodSync(path, 0o400);

    await expect(restrictToOwner(path)).resolves.toBeNull();
    expect(permissionsOf(path)).toBe(0o400);
  });

  it('returns null for a missing file, and changes neither a symbolic link\'s target nor a directory', async () => {
    await expect(restrictToOwner(join(dir, 'missing'))).resolves.toBeNull();

    const target = join(dir, 'target');
    writeFileSync(target, 'x');
    chmodSync(target, 0o644);
    symlinkSync(target, join(dir, 'link'));
    await expect(restrictToOwner(join(dir, 'link'))).resolves.toBeNull();
    expect(permissionsOf(target)).toBe(0o644);

    const sub = join(dir, 'sub');
    mkdirSync(sub, { mode: 0o755 });
    chmodSync(sub, 0o755);
    await expect(restrictToOwner(sub)).resolves.toBeNull();
    expect(permissionsOf(sub)).toBe(0o755);
  });

  it('passes on a failure other than absence (a path through a regular file)', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    await expect(restrictToOwner(join(dir, 'file', 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('renameIfPresent and moveBackIfAbsent', () => {
  it('renames a present file (a link as a link), reports false for a missing one and passes on other failures', async () => {
    writeFileSync(join(dir, 'a'), 'content');
    await expect(renameIfPresent(join(dir, 'a'), join(dir, 'b'))).resolves.toBe(true);
    expect(readFileSync(join(dir, 'b'), 'utf8')).toBe('content');
    expect(existsSync(join(dir, 'a'))).toBe(false);

    symlinkSync(join(dir, 'b'), join(dir, 'link'));
    await expect(renameIfPresent(join(dir, 'link'), join(dir, 'link-aside'))).resolves.toBe(true);
    expect(lstatSync(join(dir, 'link-aside')).isSymbolicLink()).toBe(true);

    await expect(renameIfPresent(join(dir, 'missing'), join(dir, 'c'))).resolves.toBe(false);
    await expect(renameIfPresent(join(dir, 'link-aside'), join(dir, 'b', 'below-a-file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('moves a file back when its place is free, and leaves it aside when the place was taken meanwhile', async () => {
    writeFileSync(join(dir, 'aside'), 'old');
    await expect(moveBackIfAbsent(join(dir, 'aside'), join(dir, 'instance-id'))).resolves.toBe(true);
    expect(readFileSync(join(dir, 'instance-id'), 'utf8')).toBe('old');
    expect(existsSync(join(dir, 'aside'))).toBe(false);

    writeFileSync(join(dir, 'aside'), 'older');
    await expect(moveBackIfAbsent(join(dir, 'aside'), join(dir, 'instance-id'))).resolves.toBe(false);
    expect(readFileSync(join(dir, 'instance-id'), 'utf8')).toBe('old');
    expect(readFileSync(join(dir, 'aside'), 'utf8')).toBe('older');

    await expect(moveBackIfAbsent(join(dir, 'missing'), join(dir, 'other'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('temporary files and error codes', () => {
  it('names temporary files <file>.<random UUID>.tmp, and nothing else matches', () => {
    expect(TEMPORARY_FILE_PATTERN.test('license-cache.json.0f8fad5b-d9cb-469f-a165-70867728950e.tmp')).toBe(true);
    for (const name of [
      'license-cache.json',
      'license-cache.json.0f8fad5b-d9cb-469f-a165-70867728950e.tmp.bak',
      'x.0f8fad5b-d9cb-469f-a165-70867728950e',
      'x.0F8FAD5B-D9CB-469F-A165-70867728950E.tmp',
      '.0f8fad5b-d9cb-469f-a165-70867728950e.tmp',
      'x.0f8fad5b-d9cb-369f-a165-70867728950e.tmp',
      'x.0f8fad5b-d9cb-469f-c165-70867728950e.tmp',
    ]) {
      expect(TEMPORARY_FILE_PATTERN.test(name)).toBe(false);
    }
  });

  it('reads the code of a system error, and of nothing else', () => {
    expect(errorCode(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('EACCES');
    expect(errorCode({ code: 13 })).toBe('13');
    expect(errorCode(new Error('x'))).toBeUndefined();
    expect(errorCode(null)).toBeUndefined();
    expect(errorCode('EACCES')).toBeUndefined();
  });

  it('a refused file carries its name and the path in its message', async () => {
    symlinkSync(join(dir, 'nowhere'), join(dir, 'link'));
    const error = await privateFileErrorFrom(readPrivateFile(join(dir, 'link'), 10));
    expect(error).toMatchObject({ name: 'PrivateFileError', code: 'SYMLINK', message: `${join(dir, 'link')} is a symbolic link` });

    writeFileSync(join(dir, 'big'), 'x'.repeat(11));
    expect(await privateFileErrorFrom(readPrivateFile(join(dir, 'big'), 10))).toMatchObject({ message: `${join(dir, 'big')} is larger than 10 bytes` });
    expect(await privateFileErrorFrom(readPrivateFile(dir, 10))).toMatchObject({ code: 'NOT_A_FILE', message: `${dir} is not a regular file` });
  });
});

describe('file descriptors and edge cases', () => {
  const openDescriptors = () => readdirSync('/proc/self/fd').length;

  it('closes every file it opens, whatever the outcome', async () => {
    const path = join(dir, 'doc');
    writeFileSync(path, 'x');
    chmodSync(path, 0o644);
    const before = openDescriptors();
    for (let i = 0; i < 20; i += 1) {
      await restrictToOwner(path);
      chmodSync(path, 0o644);
      await readPrivateFile(path, 10);
      await readPrivateFile(dir, 10).catch(() => undefined);
      await writePrivateFile(path, `round ${i}`);
      chmodSync(path, 0o644);
    }
    expect(openDescriptors()).toBe(before);
  });

  it('refuses a file that reads longer than it said it was (its size changed after fstat)', async () => {
    // /proc files report size 0 and then read as much as they hold: the second, read-time check applies.
    expect(await privateFileErrorFrom(readPrivateFile('/proc/self/status', 10))).toMatchObject({ code: 'TOO_LARGE' });
  });

  it('passes on a failure to open other than absence or a link (a path through a regular file)', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    await expect(readPrivateFile(join(dir, 'file', 'below'), 10)).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('removing a file that is already gone is not an error', async () => {
    await expect(removeFile(join(dir, 'never-there'))).resolves.toBeUndefined();
    writeFileSync(join(dir, 'there'), 'x');
    await removeFile(join(dir, 'there'));
    expect(existsSync(join(dir, 'there'))).toBe(false);
  });
});
