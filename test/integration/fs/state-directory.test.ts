import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { distrustOf, StateDirectory, UntrustedDirectoryError } from '../../../src/adapters/fs/state-directory.js';
import { entriesOf, permissionsOf, withUmask } from '../../support/file-system.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

/** The uid of `nobody`: "another user" for a test that runs as root. */
const ANOTHER_USER = 65534;
const OUR_UID = process.getuid?.() ?? 0;
const LEFTOVER = 'license-cache.json.3f2a9c4e-1b7d-4e8a-9c6f-0d1e2f3a4b5c.tmp';
const AN_HOUR_AGO_S = Date.now() / 1000 - 3600;

let root: string;
let path: string;
let logger: RecordingLogger;

beforeEach(() => {
  root = makeTempDir('state-directory-');
  path = join(root, 'cache');
  logger = new RecordingLogger();
});

afterEach(() => {
  removeTempDir(root);
});

const directory = (at = path) => new StateDirectory(at, logger);
const file = (name: string) => join(path, name);

function existingDirectory(mode: number, owner = OUR_UID): void {
  mkdirSync(path);
  writeFileSync(file('instance.json'), 'planted', { mode: 0o600 });
  chmodSync(path, mode);
  chownSync(path, owner, owner);
}

describe('distrustOf', () => {
  it.each([
    [0o40700, OUR_UID, null],
    [0o40755, OUR_UID, null],
    [0o40750, OUR_UID, null],
    [0o40700, ANOTHER_USER, 'owned by uid 65534'],
    [0o40770, OUR_UID, 'writable by group (mode 0770)'],
    [0o40703, OUR_UID, 'writable by others (mode 0703)'],
    [0o41777, OUR_UID, 'writable by group and others (mode 1777)'],
    [0o40777, ANOTHER_USER, 'owned by uid 65534, writable by group and others (mode 0777)'],
  ])('mode %o owned by uid %i: %s', (mode, uid, reason) => {
    expect(distrustOf({ mode, uid }, OUR_UID)).toBe(reason);
  });

  it('trusts everything where there are no POSIX owners (Windows)', () => {
    expect(distrustOf({ mode: 0o40777, uid: ANOTHER_USER }, null)).toBeNull();
  });
});

describe('StateDirectory', () => {
  it('reads nothing from a missing directory, and does not create it', async () => {
    await expect(directory().read('instance.json', 1024)).resolves.toBeNull();
    await directory().remove('instance.json');
    await expect(directory().rename('instance.json', 'aside')).resolves.toBe(false);

    expect(existsSync(path)).toBe(false);
  });

  it('creates a missing directory and its parents exactly 0700 on the first write, the file 0600', async () => {
    const nested = join(root, 'home', 'cache');

    await withUmask(() => directory(nested).write('instance.json', 'content'), 0o277);

    expect(permissionsOf(join(root, 'home'))).toBe(0o700);
    expect(permissionsOf(nested)).toBe(0o700);
    expect(permissionsOf(join(nested, 'instance.json'))).toBe(0o600);
    expect(logger.entries).toEqual([]);
  });

  it.each([
    ['0755', 0o755],
    ['0750', 0o750],
    ['0700', 0o700],
  ])('uses a directory of ours with mode %s as it is', async (_label, mode) => {
    existingDirectory(mode);

    await expect(directory().read('instance.json', 1024)).resolves.toEqual(Buffer.from('planted'));
    await directory().write('license-cache.json', 'content');

    expect(permissionsOf(path)).toBe(mode);
    expect(logger.entries).toEqual([]);
  });

  it('follows a symbolic link to the directory (an operator may relocate the cache) and judges its target', async () => {
    existingDirectory(0o700);
    symlinkSync(path, join(root, 'linked'));
    await expect(directory(join(root, 'linked')).read('instance.json', 1024)).resolves.toEqual(Buffer.from('planted'));

    chmodSync(path, 0o777);
    await expect(directory(join(root, 'linked')).read('instance.json', 1024)).rejects.toThrow(UntrustedDirectoryError);
  });

  describe.each([
    ['owned by another user', 0o700, ANOTHER_USER, 'owned by uid 65534'],
    ['writable by its group', 0o770, OUR_UID, 'writable by group (mode 0770)'],
    ['writable by others', 0o757, OUR_UID, 'writable by others (mode 0757)'],
    ['world-writable with the sticky bit', 0o1777, OUR_UID, 'writable by group and others (mode 1777)'],
  ])('a directory %s', (_case, mode, owner, reason) => {
    it('is never read, written, renamed, re-moded or cleaned; its mode is left alone', async () => {
      existingDirectory(mode, owner);
      writeFileSync(file(LEFTOVER), 'partial');
      utimesSync(file(LEFTOVER), AN_HOUR_AGO_S, AN_HOUR_AGO_S);
      chmodSync(file('instance.json'), 0o644);
      const cache = directory();

      for (const operation of [
        () => cache.read('instance.json', 1024),
        () => cache.write('instance.json', 'replaced'),
        () => cache.create('admin-token', 'created'),
        () => cache.rename('instance.json', 'aside'),
        () => cache.moveBackIfAbsent('instance.json', 'other'),
        () => cache.remove('instance.json'),
        () => cache.restrictToOwner('instance.json'),
        () => cache.removeLeftovers(0),
      ]) {
        await expect(operation()).rejects.toEqual(new UntrustedDirectoryError(path, reason));
      }

      expect(entriesOf(path)).toEqual([LEFTOVER, 'instance.json'].sort());
      expect(readFileSync(file('instance.json'), 'utf8')).toBe('planted');
      expect(permissionsOf(file('instance.json'))).toBe(0o644);
      expect(lstatSync(path).mode & 0o7777).toBe(mode);
    });

    it('is reported once, at WARN, naming the path and the reason', async () => {
      existingDirectory(mode, owner);
      const cache = directory();

      await expect(cache.read('instance.json', 1024)).rejects.toThrow(UntrustedDirectoryError);
      await expect(cache.write('instance.json', 'x')).rejects.toThrow(UntrustedDirectoryError);

      expect(logger.entries).toEqual([
        {
          level: 'warn',
          message: `Cache directory ${path} is not used: ${reason}; nothing is read from or written to it`,
          fields: { path, reason },
        },
      ]);
    });
  });

  it('is used again once the operator fixes the directory, and reported again if it changes for the worse', async () => {
    existingDirectory(0o777);
    const cache = directory();
    await expect(cache.read('instance.json', 1024)).rejects.toThrow(UntrustedDirectoryError);

    chmodSync(path, 0o700);
    await expect(cache.read('instance.json', 1024)).resolves.toEqual(Buffer.from('planted'));
    chmodSync(path, 0o777);
    await expect(cache.read('instance.json', 1024)).rejects.toThrow(UntrustedDirectoryError);

    expect(logger.at('warn')).toHaveLength(2);
  });

  it('refuses a directory path that is a regular file, without touching it', async () => {
    writeFileSync(path, 'not a directory');

    await expect(directory().read('instance.json', 1024)).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(directory().write('instance.json', 'x')).rejects.toThrow();

    expect(readFileSync(path, 'utf8')).toBe('not a directory');
  });

  it('refuses names that are not plain file names', () => {
    for (const name of ['', '.', '..', '../escape', 'a/b']) expect(() => directory().pathOf(name)).toThrow(/not a file name/);
  });

  describe('write', () => {
    it('replaces a file of ours silently: a routine update', async () => {
      await directory().write('license-cache.json', 'first');
      await directory().write('license-cache.json', 'second');

      expect(readFileSync(file('license-cache.json'), 'utf8')).toBe('second');
      expect(logger.entries).toEqual([]);
    });

    it.each<[string, () => void, string]>([
      ['a symbolic link', () => symlinkSync(join(root, 'victim'), file('license-cache.json')), 'was a symbolic link'],
      ['a loosened file', () => writeFileSync(file('license-cache.json'), 'old', { mode: 0o644 }), 'had mode 0644'],
      [
        'a file of another user',
        () => {
          writeFileSync(file('license-cache.json'), 'old', { mode: 0o600 });
          chownSync(file('license-cache.json'), ANOTHER_USER, ANOTHER_USER);
        },
        'was owned by uid 65534',
      ],
    ])('logs (WARN) replacing %s', async (_case, plant, why) => {
      mkdirSync(path, { mode: 0o700 });
      writeFileSync(join(root, 'victim'), 'do not touch');
      plant();

      await directory().write('license-cache.json', 'new');

      expect(readFileSync(file('license-cache.json'), 'utf8')).toBe('new');
      expect(permissionsOf(file('license-cache.json'))).toBe(0o600);
      expect(readFileSync(join(root, 'victim'), 'utf8')).toBe('do not touch');
      const replaced = file('license-cache.json');
      expect(logger.entries).toEqual([{ level: 'warn', message: `Replaced ${replaced}, which ${why}`, fields: { path: replaced } }]);
    });

    it('logs the reason the caller gives for replacing content it could not use', async () => {
      await directory().write('admin-token', 'changeme');

      await directory().write('admin-token', 'generated', 'held no usable token');

      expect(logger.at('warn')).toEqual([`Replaced ${file('admin-token')}, which held no usable token`]);
    });
  });

  describe('restrictToOwner', () => {
    it('makes a loosened file 0600 again, with a WARN naming the mode it had', async () => {
      await directory().write('admin-token', 'token');
      chmodSync(file('admin-token'), 0o640);

      await directory().restrictToOwner('admin-token');

      expect(permissionsOf(file('admin-token'))).toBe(0o600);
      expect(logger.entries).toEqual([
        { level: 'warn', message: `Restored mode 0600 on ${file('admin-token')} (was 0640)`, fields: { path: file('admin-token') } },
      ]);
    });

    it('leaves a file that is already 0600 alone, silently', async () => {
      await directory().write('admin-token', 'token');

      await directory().restrictToOwner('admin-token');

      expect(logger.entries).toEqual([]);
    });
  });

  describe('removeLeftovers', () => {
    it('removes old temporary files of our naming, each with a WARN, and nothing else', async () => {
      mkdirSync(path, { mode: 0o700 });
      const kept = ['instance.json', 'notes.tmp', 'license-cache.json.tmp', `${LEFTOVER}.bak`, LEFTOVER.toUpperCase(), 'a.3f2a9c4e-1b7d-1e8a-9c6f-0d1e2f3a4b5c.tmp'];
      for (const name of [LEFTOVER, ...kept]) {
        writeFileSync(file(name), 'x');
        utimesSync(file(name), AN_HOUR_AGO_S, AN_HOUR_AGO_S);
      }

      await directory().removeLeftovers();

      expect(entriesOf(path)).toEqual(kept.sort());
      expect(logger.entries).toEqual([
        { level: 'warn', message: `Removed ${file(LEFTOVER)}, left behind by an interrupted write`, fields: { path: file(LEFTOVER) } },
      ]);
    });

    it('keeps a recent one: another agent process may be writing it right now', async () => {
      mkdirSync(path, { mode: 0o700 });
      writeFileSync(file(LEFTOVER), 'in progress');

      await directory().removeLeftovers();

      expect(entriesOf(path)).toEqual([LEFTOVER]);
    });

    it('never follows a link named like a leftover, nor removes a directory so named', async () => {
      mkdirSync(path, { mode: 0o700 });
      writeFileSync(join(root, 'victim'), 'do not touch');
      symlinkSync(join(root, 'victim'), file(LEFTOVER));
      const directoryLeftover = 'instance.json.9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a.tmp';
      mkdirSync(file(directoryLeftover));

      await directory().removeLeftovers(0);

      expect(entriesOf(path)).toEqual([directoryLeftover, LEFTOVER].sort());
      expect(readFileSync(join(root, 'victim'), 'utf8')).toBe('do not touch');
      expect(logger.entries).toEqual([]);
    });

    it('does nothing, silently, when the directory does not exist', async () => {
      await directory().removeLeftovers();

      expect(existsSync(path)).toBe(false);
      expect(logger.entries).toEqual([]);
    });
  });
});
