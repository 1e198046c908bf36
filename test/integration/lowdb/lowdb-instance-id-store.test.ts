import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateDirectory } from '../../../src/adapters/fs/state-directory.js';
import { INSTANCE_ID_FILE, LowdbInstanceIdStore, setUntrustedInstanceFileAside } from '../../../src/adapters/lowdb/lowdb-instance-id-store.js';
import { entriesOf, permissionsOf, withUmask } from '../../support/file-system.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const KNOWN_ID = '0b9e6a52-3f1d-4c7a-8e2b-5d4c3b2a1f00';

let root: string;
let cacheDir: string;
let logger: RecordingLogger;

beforeEach(() => {
  root = makeTempDir('lowdb-instance-id-');
  cacheDir = join(root, 'cache');
  logger = new RecordingLogger();
});

afterEach(() => {
  removeTempDir(root);
});

const instanceFile = () => join(cacheDir, INSTANCE_ID_FILE);
const newStore = () => new LowdbInstanceIdStore(new StateDirectory(cacheDir, logger), logger);

function plantInstanceFile(content: string): void {
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  writeFileSync(instanceFile(), content);
}

describe('LowdbInstanceIdStore', () => {
  it('creates a random UUID on first use and stores it in <cache dir>/instance.json', async () => {
    const id = await newStore().load();

    expect(id).toMatch(UUID_V4);
    const stored = JSON.parse(readFileSync(instanceFile(), 'utf8'));
    expect(stored).toEqual({ instance_id: id, created_at: expect.any(String) });
    expect(Number.isNaN(Date.parse(stored.created_at))).toBe(false);
    expect(logger.entries).toEqual([]);
  });

  it('creates the cache directory 0700 and instance.json 0600, even with umask 0, leaving no temporary file', async () => {
    await withUmask(() => newStore().load());

    expect(permissionsOf(cacheDir)).toBe(0o700);
    expect(permissionsOf(instanceFile())).toBe(0o600);
    expect(entriesOf(cacheDir)).toEqual([INSTANCE_ID_FILE]);
  });

  it('returns the same id on every later load, from this store or a new one, and never rewrites the file', async () => {
    const first = await newStore().load();
    const stored = readFileSync(instanceFile(), 'utf8');

    const again = await newStore().load();
    const store = newStore();
    const twice = [await store.load(), await store.load()];

    expect(again).toBe(first);
    expect(twice).toEqual([first, first]);
    expect(readFileSync(instanceFile(), 'utf8')).toBe(stored);
  });

  it('gives processes starting together one id', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => newStore().load()));

    expect(new Set(ids).size).toBe(1);
    expect(JSON.parse(readFileSync(instanceFile(), 'utf8')).instance_id).toBe(ids[0]);
    expect(entriesOf(cacheDir)).toEqual([INSTANCE_ID_FILE]);
  });

  it('reuses an id stored without created_at', async () => {
    plantInstanceFile(JSON.stringify({ instance_id: KNOWN_ID }));

    await expect(newStore().load()).resolves.toBe(KNOWN_ID);
  });

  describe('when instance.json cannot be trusted, it moves the file aside for the operator, logs a WARN and creates an id that later starts reuse', () => {
    const untrustedFiles = () => entriesOf(cacheDir).filter((name) => name.startsWith(`${INSTANCE_ID_FILE}.untrusted-`));

    it.each([
      ['bad JSON', '{"instance_id": "0b9e6a52-'],
      ['a wrong shape', JSON.stringify([KNOWN_ID])],
      ['an id that is not a UUID', JSON.stringify({ instance_id: 'my-server' })],
      ['an upper-case UUID', JSON.stringify({ instance_id: KNOWN_ID.toUpperCase() })],
      ['an oversized file', JSON.stringify({ instance_id: KNOWN_ID }).padEnd(64 * 1024 + 1, ' ')],
    ])('%s', async (_case, content) => {
      plantInstanceFile(content);

      const id = await newStore().load();

      expect(id).toMatch(UUID_V4);
      expect(id).not.toBe(KNOWN_ID);
      const [aside] = untrustedFiles();
      expect(logger.entries).toEqual([
        {
          level: 'warn',
          message: expect.stringContaining('Instance id file could not be trusted'),
          fields: { path: instanceFile(), moved_to: join(cacheDir, aside as string) },
        },
      ]);
      expect(readFileSync(join(cacheDir, aside as string), 'utf8')).toBe(content);
      expect(JSON.parse(readFileSync(instanceFile(), 'utf8')).instance_id).toBe(id);
      await expect(newStore().load()).resolves.toBe(id);
      expect(logger.entries).toHaveLength(1);
    });

    it('a symbolic link, even to a valid instance file, is not followed: the link is moved, its target untouched', async () => {
      mkdirSync(cacheDir, { mode: 0o700 });
      const target = join(root, 'other-installation.json');
      const planted = JSON.stringify({ instance_id: KNOWN_ID, created_at: null });
      writeFileSync(target, planted);
      symlinkSync(target, instanceFile());

      const id = await newStore().load();

      expect(id).toMatch(UUID_V4);
      expect(id).not.toBe(KNOWN_ID);
      expect(logger.at('warn')).toEqual([expect.stringContaining('is a symbolic link')]);
      expect(readFileSync(target, 'utf8')).toBe(planted);
      expect(lstatSync(join(cacheDir, untrustedFiles()[0] as string)).isSymbolicLink()).toBe(true);
      expect(lstatSync(instanceFile()).isFile()).toBe(true);
    });

    it('gives processes starting together one id, and keeps the untrusted file once', async () => {
      const content = '{"instance_id": "0b9e6a52-';
      plantInstanceFile(content);

      const ids = await Promise.all(Array.from({ length: 6 }, () => newStore().load()));

      expect(new Set(ids).size).toBe(1);
      expect(JSON.parse(readFileSync(instanceFile(), 'utf8')).instance_id).toBe(ids[0]);
      expect(untrustedFiles().map((name) => readFileSync(join(cacheDir, name), 'utf8'))).toEqual([content]);
    });
  });

  describe('setUntrustedInstanceFileAside, when processes race over an untrusted file', () => {
    it('leaves a trusted id in place: another process created it after this one found the file untrusted', async () => {
      const valid = JSON.stringify({ instance_id: KNOWN_ID, created_at: null });
      plantInstanceFile(valid);

      await expect(setUntrustedInstanceFileAside(new StateDirectory(cacheDir, logger), INSTANCE_ID_FILE)).resolves.toBeNull();

      expect(readFileSync(instanceFile(), 'utf8')).toBe(valid);
      expect(entriesOf(cacheDir)).toEqual([INSTANCE_ID_FILE]);
    });

    it('answers null when the file is already gone', async () => {
      mkdirSync(cacheDir, { mode: 0o700 });
      await expect(setUntrustedInstanceFileAside(new StateDirectory(cacheDir, logger), INSTANCE_ID_FILE)).resolves.toBeNull();
      expect(entriesOf(cacheDir)).toEqual([]);
    });
  });

  it.each<[string, () => void, string]>([
    ['owned by another user', () => chownSync(cacheDir, 65534, 65534), 'owned by uid 65534'],
    ['world-writable with the sticky bit', () => chmodSync(cacheDir, 0o1777), 'writable by group and others (mode 1777)'],
  ])('in a cache directory %s: a temporary id, the planted file neither adopted nor moved', async (_case, loosen, reason) => {
    const planted = JSON.stringify({ instance_id: KNOWN_ID, created_at: null });
    plantInstanceFile(planted);
    loosen();

    const id = await newStore().load();

    expect(id).toMatch(UUID_V4);
    expect(id).not.toBe(KNOWN_ID);
    expect(entriesOf(cacheDir)).toEqual([INSTANCE_ID_FILE]);
    expect(readFileSync(instanceFile(), 'utf8')).toBe(planted);
    expect(logger.at('warn')).toEqual([
      expect.stringContaining(`Cache directory ${cacheDir} is not used: ${reason}`),
      expect.stringContaining(`Instance id not persisted, using a temporary one: cache directory ${cacheDir} is not used: ${reason}`),
    ]);
  });

  it('uses a temporary id with a WARN, without crashing, when the cache directory is a regular file', async () => {
    writeFileSync(cacheDir, 'not a directory');

    const id = await newStore().load();

    expect(id).toMatch(UUID_V4);
    expect(logger.at('warn')).toEqual([expect.stringContaining('Instance id not persisted')]);
    expect(readFileSync(cacheDir, 'utf8')).toBe('not a directory');
  });
});
