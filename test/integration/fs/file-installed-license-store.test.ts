import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileInstalledLicenseStore, INSTALLED_LICENSE_FILE } from '../../../src/adapters/fs/file-installed-license-store.js';
import { StateDirectory } from '../../../src/adapters/fs/state-directory.js';
import { CacheError } from '../../../src/domain/model/errors.js';
import { entriesOf, permissionsOf } from '../../support/file-system.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

const JWT = 'eyJhbGciOiJFZERTQSJ9.eyJ0aWVyIjoicHJvIn0.c2lnbmF0dXJl';

describe('FileInstalledLicenseStore', () => {
  let root: string;
  let cacheDir: string;
  let store: FileInstalledLicenseStore;
  beforeEach(() => {
    root = makeTempDir('installed-license-');
    cacheDir = join(root, 'cache');
    store = new FileInstalledLicenseStore(new StateDirectory(cacheDir, new RecordingLogger()));
  });
  afterEach(() => removeTempDir(root));
  const file = () => join(cacheDir, INSTALLED_LICENSE_FILE);

  it('saves the JWT as <cache dir>/static-license.jwt, mode 0600 in a 0700 directory, and reads it back', async () => {
    expect(await store.load()).toBeNull();
    await store.save(JWT);

    expect(readFileSync(file(), 'utf8')).toBe(`${JWT}\n`);
    expect(permissionsOf(file())).toBe(0o600);
    expect(permissionsOf(cacheDir)).toBe(0o700);
    expect(await store.load()).toBe(JWT);
    expect(entriesOf(cacheDir)).toEqual([INSTALLED_LICENSE_FILE]); // no temporary file left behind
  });

  it('removes it, and says whether there was one', async () => {
    await store.save(JWT);
    expect(await store.remove()).toBe(true);
    expect(existsSync(file())).toBe(false);
    expect(await store.remove()).toBe(false);
    expect(await store.load()).toBeNull();
  });

  it('refuses a symbolic link and an empty file, with a CacheError', async () => {
    mkdirSync(cacheDir, { mode: 0o700 });
    writeFileSync(join(root, 'target'), JWT);
    symlinkSync(join(root, 'target'), file());
    await expect(store.load()).rejects.toMatchObject({ code: 'CACHE.UNSAFE_FILE' });
    expect(await store.remove()).toBe(true); // the link itself, never its target
    expect(readFileSync(join(root, 'target'), 'utf8')).toBe(JWT);

    writeFileSync(file(), '\n');
    await expect(store.load()).rejects.toMatchObject({ code: 'CACHE.CORRUPT' });
  });

  it('neither reads nor writes in a directory others can write to', async () => {
    mkdirSync(cacheDir, { mode: 0o700 });
    writeFileSync(file(), JWT);
    chmodSync(cacheDir, 0o777);

    await expect(store.load()).rejects.toBeInstanceOf(CacheError);
    await expect(store.save(JWT)).rejects.toMatchObject({ code: 'CACHE.UNSAFE_DIRECTORY' });
    await expect(store.remove()).rejects.toMatchObject({ code: 'CACHE.UNSAFE_DIRECTORY' });
    expect(readFileSync(file(), 'utf8')).toBe(JWT);
  });
});
