import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateDirectory } from '../../../src/adapters/fs/state-directory.js';
import { INSTANCE_ID_FILE, LowdbInstanceIdStore, setUntrustedInstanceFileAside, storedInstanceId } from '../../../src/adapters/lowdb/lowdb-instance-id-store.js';
import { entriesOf, makeFifo, permissionsOf, withUmask } from '../../support/file-system.js';
import { MachineIdHostFingerprint } from '../../../src/adapters/system/machine-id-fingerprint.js';
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

describe('LowdbInstanceIdStore: clone detection', () => {
  const HERE = 'a'.repeat(64);
  const ELSEWHERE = 'b'.repeat(64);
  const host = (fingerprint: string | null) => ({ fingerprint: async () => fingerprint });
  const storeOn = (fingerprint: string | null, onClone: 'keep' | 'renew' = 'keep') =>
    new LowdbInstanceIdStore(new StateDirectory(cacheDir, logger), logger, { host: host(fingerprint), onClone });
  const stored = () => JSON.parse(readFileSync(instanceFile(), 'utf8')) as Record<string, unknown>;
  /** A record as the agent writes it (mode 0600), so that replacing it is routine. */
  const plantRecord = (content: string) => {
    plantInstanceFile(content);
    chmodSync(instanceFile(), 0o600);
  };
  const record = (fingerprint?: string) =>
    JSON.stringify({ instance_id: KNOWN_ID, created_at: '2026-01-01T00:00:00.000Z', ...(fingerprint === undefined ? {} : { host_fingerprint: fingerprint }) });

  it('records the host in a new instance record; the same host finds no clone', async () => {
    const id = await storeOn(HERE).load();
    expect(stored()).toEqual({ instance_id: id, created_at: expect.any(String), host_fingerprint: HERE });

    const again = storeOn(HERE);
    expect(await again.load()).toBe(id);
    expect(again.cloned()).toBe(false);
    expect(logger.at('warn')).toEqual([]);
  });

  it('a record without a fingerprint (older) adopts this host: no clone, one WARN that the file was rewritten', async () => {
    plantRecord(record());
    const store = storeOn(HERE);

    expect(await store.load()).toBe(KNOWN_ID);
    expect(store.cloned()).toBe(false);
    expect(stored()).toMatchObject({ instance_id: KNOWN_ID, created_at: '2026-01-01T00:00:00.000Z', host_fingerprint: HERE });
    expect(logger.at('warn')).toEqual([`Instance record ${instanceFile()} now names this host (host_fingerprint added); the instance id is unchanged`]);
  });

  it('renew keeps the id when the new record cannot be stored: an id minted at every start would change the installation each time', async () => {
    plantRecord(record(ELSEWHERE));
    const directory = new StateDirectory(cacheDir, logger);
    directory.write = () => Promise.reject(new Error('read-only file system'));
    const store = new LowdbInstanceIdStore(directory, logger, { host: host(HERE), onClone: 'renew' });

    expect(await store.load()).toBe(KNOWN_ID);
    expect(store.cloned()).toBe(true);
    expect(stored()).toMatchObject({ instance_id: KNOWN_ID, host_fingerprint: ELSEWHERE });
    expect(logger.at('warn')).toEqual([expect.stringMatching(/^Could not update .*instance\.json: read-only file system$/)]);
  });

  it('keep: a record made on another host keeps its id, WARNs once, and then names this host', async () => {
    plantRecord(record(ELSEWHERE));
    const store = storeOn(HERE);

    expect(await store.load()).toBe(KNOWN_ID);
    expect(store.cloned()).toBe(true);
    expect(logger.at('warn')).toEqual([expect.stringMatching(/was made on another host .*keeping its instance id \(SOFTCLIENT4ES_INSTANCE_ON_CLONE=keep\)/)]);
    expect(stored()).toMatchObject({ instance_id: KNOWN_ID, host_fingerprint: HERE });

    const next = storeOn(HERE);
    expect(await next.load()).toBe(KNOWN_ID);
    expect(next.cloned()).toBe(false);
  });

  it('renew: a record made on another host is replaced by a new id for this host', async () => {
    plantRecord(record(ELSEWHERE));
    const store = storeOn(HERE, 'renew');

    const id = await store.load();

    expect(id).toMatch(UUID_V4);
    expect(id).not.toBe(KNOWN_ID);
    expect(store.cloned()).toBe(true);
    expect(stored()).toEqual({ instance_id: id, created_at: expect.any(String), host_fingerprint: HERE });
    expect(logger.at('warn')).toEqual([expect.stringContaining('a new instance id replaces it (SOFTCLIENT4ES_INSTANCE_ON_CLONE=renew)')]);
  });

  it('a host that cannot be named detects nothing and changes nothing', async () => {
    plantRecord(record(ELSEWHERE));
    const store = storeOn(null);

    expect(await store.load()).toBe(KNOWN_ID);
    expect(store.cloned()).toBe(false);
    expect(stored()).toMatchObject({ host_fingerprint: ELSEWHERE });
  });

  it('a fingerprint port that fails counts as a host that cannot be named', async () => {
    plantRecord(record(ELSEWHERE));
    const failing = { fingerprint: async () => Promise.reject(new Error('EACCES')) };
    const store = new LowdbInstanceIdStore(new StateDirectory(cacheDir, logger), logger, { host: failing });

    expect(await store.load()).toBe(KNOWN_ID);
    expect(store.cloned()).toBe(false);
  });
});

describe('LowdbInstanceIdStore with the machine-id fingerprint', () => {
  const MACHINE_ID = '4f1c2d3e4a5b4c6d8e7f9a0b1c2d3e4f';
  /** The store as the agent builds it, on a machine whose id files are `paths`, renewing the id of a copy. */
  const storeOn = (paths: string[]) =>
    new LowdbInstanceIdStore(new StateDirectory(cacheDir, logger), logger, { host: new MachineIdHostFingerprint(paths), onClone: 'renew' });

  it('without a machine id (a container image has none) the record names no host: a container created again on its volume keeps its id', async () => {
    const absent = [join(root, 'no-machine-id')];
    const id = await storeOn(absent).load();
    expect(JSON.parse(readFileSync(instanceFile(), 'utf8'))).not.toHaveProperty('host_fingerprint');

    const recreated = storeOn(absent);
    expect(await recreated.load()).toBe(id);
    expect(recreated.cloned()).toBe(false);
    expect(logger.at('warn')).toEqual([]);
  });

  it('a machine id that cannot be read one day (permissions, a FIFO) is not another machine: renew keeps the id', async () => {
    const machineId = join(root, 'machine-id');
    writeFileSync(machineId, `${MACHINE_ID}\n`);
    const id = await storeOn([machineId]).load();

    rmSync(machineId);
    makeFifo(machineId);
    const later = storeOn([machineId]);
    expect(await later.load()).toBe(id);
    expect(later.cloned()).toBe(false);
    expect(logger.at('warn')).toEqual([]);
  });
});

describe("LowdbInstanceIdStore: the original product's plain-text instance-id", () => {
  const legacyFile = () => join(cacheDir, 'instance-id');
  const plantLegacy = (content: string) => {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    writeFileSync(legacyFile(), content, { mode: 0o600 });
  };

  it('is adopted (trimmed, lower-cased) into instance.json when that is absent; the old file is left as it was', async () => {
    plantLegacy(`  ${KNOWN_ID.toUpperCase()}\n`);

    expect(await newStore().load()).toBe(KNOWN_ID);
    expect(JSON.parse(readFileSync(instanceFile(), 'utf8'))).toMatchObject({ instance_id: KNOWN_ID });
    expect(readFileSync(legacyFile(), 'utf8')).toBe(`  ${KNOWN_ID.toUpperCase()}\n`);
    expect(logger.at('info')).toEqual([expect.stringContaining('Adopted the instance id of')]);
  });

  it('is what a reader that changes nothing (the CLI) reports when instance.json is absent', async () => {
    plantLegacy(`${KNOWN_ID}\n`);
    const directory = new StateDirectory(cacheDir, logger);

    expect(await storedInstanceId(directory)).toEqual({ state: 'present', id: KNOWN_ID, path: legacyFile() });
    expect(entriesOf(cacheDir)).toEqual(['instance-id']);
  });

  it('is ignored when instance.json exists', async () => {
    plantInstanceFile(JSON.stringify({ instance_id: KNOWN_ID, created_at: null }));
    writeFileSync(legacyFile(), '11111111-2222-4333-8444-555555555555');

    expect(await newStore().load()).toBe(KNOWN_ID);
  });

  it('that holds no UUID is ignored with a WARN: a new id is minted, the old file untouched', async () => {
    plantLegacy('not-a-uuid\n');

    const id = await newStore().load();

    expect(id).toMatch(UUID_V4);
    expect(logger.at('warn')).toEqual([expect.stringMatching(/^Ignored .*instance-id: it does not hold a UUID/)]);
    expect(readFileSync(legacyFile(), 'utf8')).toBe('not-a-uuid\n');
  });

  it('that is a symbolic link is not followed: ignored with a WARN', async () => {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(root, 'elsewhere'), KNOWN_ID);
    symlinkSync(join(root, 'elsewhere'), legacyFile());

    const id = await newStore().load();

    expect(id).not.toBe(KNOWN_ID);
    expect(logger.at('warn')).toEqual([expect.stringMatching(/^Ignored .*instance-id: .*symbolic link/)]);
  });
});
