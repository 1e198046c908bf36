import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrivateFileError } from '../../../src/adapters/fs/private-files.js';
import { StateDirectory, UntrustedDirectoryError } from '../../../src/adapters/fs/state-directory.js';
import { LICENSE_CACHE_FILE, LowdbLicenseCache, toCacheError } from '../../../src/adapters/lowdb/lowdb-license-cache.js';
import { CorruptFileError } from '../../../src/adapters/lowdb/private-json-file.js';
import { CacheError } from '../../../src/domain/model/errors.js';
import { ResolutionTrail } from '../../../src/domain/model/resolution-trail.js';
import { CachedLicenseStep } from '../../../src/domain/resolution/cached-license.step.js';
import { TextGate } from '../../../src/domain/model/safe-text.js';
import { FakeLicenseVerifier } from '../../support/fake-license-verifier.js';
import { InMemoryTrustedTime } from '../../support/in-memory-trusted-time.js';
import { entriesOf, makeFifo, permissionsOf, withUmask } from '../../support/file-system.js';
import { DAY, FixedClock } from '../../support/fixed-clock.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { aLicenseToken, generateSigningKey } from '../../support/signing-keys.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

/** DESIGN §8: cache files over 64 KiB are refused (written out, so that a wrong constant fails). */
const MAX_CACHE_BYTES = 64 * 1024;
const SAVED_AT = '2026-06-01T00:00:00.000Z';
const JWT = 'eyJhbGciOiJFZERTQSJ9.eyJ0aWVyIjoicHJvIn0.c2lnbmF0dXJl';

let root: string;
let cacheDir: string;
let clock: FixedClock;

beforeEach(() => {
  root = makeTempDir('lowdb-license-cache-');
  cacheDir = join(root, 'cache');
  clock = new FixedClock(SAVED_AT);
});

afterEach(() => {
  removeTempDir(root);
});

const cacheFile = () => join(cacheDir, LICENSE_CACHE_FILE);
const newCache = (logger = new RecordingLogger()) => new LowdbLicenseCache(new StateDirectory(cacheDir, logger), clock);

function plantCacheFile(content: string | Buffer): void {
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  writeFileSync(cacheFile(), content);
}

async function cacheErrorFrom(promise: Promise<unknown>): Promise<CacheError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CacheError) return error;
    throw error;
  }
  throw new Error('expected a CacheError, but the promise resolved');
}

/** The messages of an error and of its causes, which callers may log. */
function messagesOf(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) messages.push(current.message);
  return messages.join('\n');
}

describe('LowdbLicenseCache', () => {
  describe('save', () => {
    it('stores the JWT and the time it was saved in <cache dir>/license-cache.json', async () => {
      await newCache().save(JWT);

      expect(JSON.parse(readFileSync(cacheFile(), 'utf8'))).toEqual({ jwt: JWT, saved_at: SAVED_AT });
    });

    it('creates the cache directory 0700 and the file 0600, even with umask 0, leaving no temporary file', async () => {
      await withUmask(() => newCache().save(JWT));

      expect(permissionsOf(cacheDir)).toBe(0o700);
      expect(permissionsOf(cacheFile())).toBe(0o600);
      expect(entriesOf(cacheDir)).toEqual([LICENSE_CACHE_FILE]);
    });

    it('makes a loosened cache file 0600 again on the next save', async () => {
      plantCacheFile(JSON.stringify({ jwt: 'old', saved_at: null }));
      chmodSync(cacheFile(), 0o644);

      await newCache().save(JWT);

      expect(permissionsOf(cacheFile())).toBe(0o600);
    });

    it('replaces a corrupt file', async () => {
      plantCacheFile('{"jwt": tru');

      await newCache().save(JWT);

      await expect(newCache().load()).resolves.toBe(JWT);
    });

    it('logs (WARN) replacing a corrupt file, naming what was wrong with it', async () => {
      plantCacheFile('{"jwt": tru');
      chmodSync(cacheFile(), 0o600);
      const logger = new RecordingLogger();

      await newCache(logger).save(JWT);

      expect(logger.entries).toEqual([
        { level: 'warn', message: `Replaced ${cacheFile()}, which was corrupt (not valid UTF-8 JSON)`, fields: { path: cacheFile() } },
      ]);
    });

    it('updates its own file without logging', async () => {
      const logger = new RecordingLogger();
      await newCache(logger).save(JWT);

      await newCache(logger).save(JWT);

      expect(logger.entries).toEqual([]);
    });

    it('replaces a planted symbolic link with a regular file and leaves the link’s target untouched', async () => {
      mkdirSync(cacheDir, { mode: 0o700 });
      const target = join(root, 'victim');
      writeFileSync(target, 'do not touch');
      symlinkSync(target, cacheFile());

      await newCache().save(JWT);

      expect(lstatSync(cacheFile()).isSymbolicLink()).toBe(false);
      expect(readFileSync(target, 'utf8')).toBe('do not touch');
      await expect(newCache().load()).resolves.toBe(JWT);
    });

    it('fails with CACHE.IO_FAILED when the cache directory is a regular file', async () => {
      writeFileSync(cacheDir, 'not a directory');

      const error = await cacheErrorFrom(newCache().save(JWT));

      expect(error.code).toBe('CACHE.IO_FAILED');
      expect(error.message).toContain(cacheFile());
      expect(messagesOf(error)).not.toContain(JWT);
    });

    it('fails with CACHE.IO_FAILED when license-cache.json cannot be replaced, leaving no temporary file', async () => {
      mkdirSync(cacheFile(), { recursive: true });

      const error = await cacheErrorFrom(newCache().save(JWT));

      expect(error.code).toBe('CACHE.IO_FAILED');
      expect(entriesOf(cacheDir)).toEqual([LICENSE_CACHE_FILE]);
    });
  });

  describe('in a cache directory that is not ours (another owner, or writable by others)', () => {
    it.each<[string, () => void]>([
      ['owned by another user', () => chownSync(cacheDir, 65534, 65534)],
      ['world-writable with the sticky bit', () => chmodSync(cacheDir, 0o1777)],
    ])('%s: load, save and setAside fail with CACHE.UNSAFE_DIRECTORY and touch nothing', async (_case, loosen) => {
      const planted = JSON.stringify({ jwt: JWT, saved_at: SAVED_AT });
      plantCacheFile(planted);
      loosen();

      for (const operation of [() => newCache().load(), () => newCache().save('eyJ.other.jwt'), () => newCache().setAside()]) {
        const error = await cacheErrorFrom(operation());
        expect(error.code).toBe('CACHE.UNSAFE_DIRECTORY');
        expect(error.message).toContain(cacheDir);
      }

      expect(readFileSync(cacheFile(), 'utf8')).toBe(planted);
      expect(entriesOf(cacheDir)).toEqual([LICENSE_CACHE_FILE]);
    });
  });

  describe('load', () => {
    it('returns a real license JWT saved by an earlier process', async () => {
      const jwt = await aLicenseToken(generateSigningKey());
      await newCache().save(jwt);

      await expect(newCache().load()).resolves.toBe(jwt);
    });

    it('returns null when the cache directory does not exist, without creating it', async () => {
      await expect(newCache().load()).resolves.toBeNull();

      expect(existsSync(cacheDir)).toBe(false);
    });

    it('returns null after the file was deleted behind its back', async () => {
      const cache = newCache();
      await cache.save(JWT);
      removeTempDir(cacheDir);

      await expect(cache.load()).resolves.toBeNull();
    });

    it('accepts a file written without saved_at', async () => {
      plantCacheFile(JSON.stringify({ jwt: JWT }));

      await expect(newCache().load()).resolves.toBe(JWT);
    });

    it('reads a valid document of exactly 64 KiB', async () => {
      const document = JSON.stringify({ jwt: JWT, saved_at: SAVED_AT });
      plantCacheFile(document.padEnd(MAX_CACHE_BYTES, ' '));

      await expect(newCache().load()).resolves.toBe(JWT);
    });

    it.each<[string, string | Buffer]>([
      ['truncated JSON', '{"jwt": "eyJhbGciOiJFZERTQSJ9.eyJ0aWVyIjoicHJvIn0'],
      ['a raw JWT instead of JSON', JWT],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
      ['an empty file', ''],
      ['JSON null', 'null'],
      ['a JSON array', `["${JWT}"]`],
      ['a number for jwt', '{"jwt": 42}'],
      ['an empty jwt', '{"jwt": ""}'],
      ['no jwt at all', '{"saved_at": "2026-06-01T00:00:00.000Z"}'],
    ])('refuses %s as CACHE.CORRUPT without quoting the file', async (_case, content) => {
      plantCacheFile(content);

      const error = await cacheErrorFrom(newCache().load());

      expect(error.code).toBe('CACHE.CORRUPT');
      expect(error.message).toContain(cacheFile());
      expect(messagesOf(error)).not.toContain('eyJ');
    });

    it.each<[string, string]>([
      ['JSON null', 'expected a JSON object'],
      ['"a JSON string"', 'expected a JSON object'],
      ['{"jwt": 42}', '"jwt" must be a non-empty string'],
      ['{"jwt": ""}', '"jwt" must be a non-empty string'],
      ['{"jwt": "x"', 'not valid UTF-8 JSON'],
    ])('says what is wrong with a file holding %s', async (content, reason) => {
      plantCacheFile(content === 'JSON null' ? 'null' : content);

      const error = await cacheErrorFrom(newCache().load());

      expect(error.message).toBe(`${cacheFile()} is corrupt: ${reason}`);
    });

    it('gives up on a read slower than its deadline with CACHE.TIMEOUT (a stalled disk does not hold up start-up)', async () => {
      class StalledDirectory extends StateDirectory {
        override read(): Promise<Buffer | null> {
          return new Promise(() => undefined);
        }
      }
      const stalled = new LowdbLicenseCache(new StalledDirectory(cacheDir, new RecordingLogger()), clock, 50);

      const error = await cacheErrorFrom(stalled.load());

      expect(error).toMatchObject({ code: 'CACHE.TIMEOUT', message: `reading ${cacheFile()} took longer than 50 ms` });
    });

    it('names the operation and the system error code of a failing disk, keeping the error as the cause', async () => {
      const eio = Object.assign(new Error('i/o error'), { code: 'EIO' });
      class FailingDisk extends StateDirectory {
        override read(): Promise<Buffer | null> {
          return Promise.reject(eio);
        }
        override write(): Promise<void> {
          return Promise.reject(eio);
        }
        override list(): Promise<string[]> {
          return Promise.reject(eio);
        }
      }
      const failing = new LowdbLicenseCache(new FailingDisk(cacheDir, new RecordingLogger()), clock);

      const errors = [await cacheErrorFrom(failing.load()), await cacheErrorFrom(failing.save(JWT)), await cacheErrorFrom(failing.setAside())];

      expect(errors.map((error) => [error.code, error.message, error.cause])).toEqual([
        ['CACHE.IO_FAILED', `could not read ${cacheFile()} (EIO)`, eio],
        ['CACHE.IO_FAILED', `could not write ${cacheFile()} (EIO)`, eio],
        ['CACHE.IO_FAILED', `could not set aside ${cacheFile()} (EIO)`, eio],
      ]);
    });

    it('refuses a file over 64 KiB as CACHE.TOO_LARGE', async () => {
      const document = JSON.stringify({ jwt: JWT, saved_at: SAVED_AT });
      plantCacheFile(document.padEnd(MAX_CACHE_BYTES + 1, ' '));

      const error = await cacheErrorFrom(newCache().load());

      expect(error.code).toBe('CACHE.TOO_LARGE');
    });

    it.each<[string, () => void]>([
      [
        'a symbolic link to a valid cache file',
        () => {
          const target = join(root, 'planted.json');
          writeFileSync(target, JSON.stringify({ jwt: JWT, saved_at: SAVED_AT }));
          symlinkSync(target, cacheFile());
        },
      ],
      ['a FIFO', () => makeFifo(cacheFile())],
      ['a directory', () => mkdirSync(cacheFile())],
    ])('refuses %s as CACHE.UNSAFE_FILE', async (_case, plant) => {
      mkdirSync(cacheDir, { mode: 0o700 });
      plant();

      const error = await cacheErrorFrom(newCache().load());

      expect(error.code).toBe('CACHE.UNSAFE_FILE');
    });
  });

  describe('setAside (DESIGN §8: nothing is deleted on a verdict)', () => {
    it('renames license-cache.json to license-cache.json.rejected-<UTC time>, content intact', async () => {
      await newCache().save(JWT);

      const aside = await newCache().setAside();

      expect(aside).toBe(join(cacheDir, 'license-cache.json.rejected-20260601T000000.000Z'));
      expect(existsSync(cacheFile())).toBe(false);
      expect(JSON.parse(readFileSync(aside as string, 'utf8'))).toMatchObject({ jwt: JWT });
    });

    it('keeps the three newest rejected files and never overwrites one set aside in the same millisecond', async () => {
      for (let i = 0; i < 5; i += 1) {
        await newCache().save(`${JWT}${i}`);
        await newCache().setAside();
        if (i % 2 === 1) clock.advance(1000);
      }

      const kept = entriesOf(cacheDir).filter((name) => name.startsWith('license-cache.json.rejected-'));
      expect(kept).toHaveLength(3);
      const jwts = kept.map((name) => (JSON.parse(readFileSync(join(cacheDir, name), 'utf8')) as { jwt: string }).jwt).sort();
      expect(jwts).toEqual([`${JWT}2`, `${JWT}3`, `${JWT}4`]);
    });

    it('numbers the files set aside within one millisecond -1, -2, … and keeps the newest three by name', async () => {
      for (let i = 0; i < 4; i += 1) {
        await newCache().save(`${JWT}${i}`);
        await newCache().setAside();
      }

      const stamp = 'license-cache.json.rejected-20260601T000000.000Z';
      expect(entriesOf(cacheDir).filter((name) => name.startsWith('license-cache.json.rejected-')).sort()).toEqual([`${stamp}-1`, `${stamp}-2`, `${stamp}-3`]);
    });

    it('moves a planted symbolic link as a link, leaving its target alone', async () => {
      mkdirSync(cacheDir, { mode: 0o700 });
      const target = join(root, 'victim');
      writeFileSync(target, 'do not touch');
      symlinkSync(target, cacheFile());

      const aside = await newCache().setAside();

      expect(lstatSync(aside as string).isSymbolicLink()).toBe(true);
      expect(readFileSync(target, 'utf8')).toBe('do not touch');
    });

    it('returns null when there is no cache file or no directory', async () => {
      await expect(newCache().setAside()).resolves.toBeNull();
    });
  });

  describe('behind the cached-license step (DESIGN §8: a corrupt cache is absent, with a WARN)', () => {
    const instanceId = '6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f';
    let verifier: FakeLicenseVerifier;
    let logger: RecordingLogger;
    let step: CachedLicenseStep;

    beforeEach(() => {
      verifier = new FakeLicenseVerifier(clock, { gracePeriodMs: 14 * DAY, instanceId });
      logger = new RecordingLogger();
      step = new CachedLicenseStep(newCache(), verifier, new InMemoryTrustedTime(), logger, new TextGate());
    });

    it('uses a license cached on disk by an earlier run', async () => {
      await newCache().save(verifier.issue(aLicenseClaims(clock.now(), { tier: 'enterprise' })));
      const trail = new ResolutionTrail();

      const license = await step.attempt(trail);

      expect(license?.tier).toBe('enterprise');
      expect(license?.source).toBe('cache');
      expect(logger.at('warn')).toEqual(['Using cached license']);
    });

    it('treats a corrupt file as absent, logs one WARN and does not crash', async () => {
      plantCacheFile('{"jwt": tru');
      const trail = new ResolutionTrail();

      await expect(step.attempt(trail)).resolves.toBeNull();

      expect(logger.entries).toEqual([
        { level: 'warn', message: expect.stringContaining('License cache ignored'), fields: { code: 'CACHE.CORRUPT' } },
      ]);
      expect(trail.attempts()).toEqual([expect.objectContaining({ source: 'cache', outcome: 'failed', code: 'CACHE.CORRUPT' })]);
    });

    it('treats a symbolic link as absent with a WARN, even when it points to a license that would verify', async () => {
      mkdirSync(cacheDir, { mode: 0o700 });
      const target = join(root, 'planted.json');
      writeFileSync(target, JSON.stringify({ jwt: verifier.issue(aLicenseClaims(clock.now())), saved_at: SAVED_AT }));
      symlinkSync(target, cacheFile());

      await expect(step.attempt(new ResolutionTrail())).resolves.toBeNull();

      expect(logger.entries).toEqual([expect.objectContaining({ level: 'warn', fields: { code: 'CACHE.UNSAFE_FILE' } })]);
    });

    it('keeps the file of a cached license refused by this clock (expired), for a later start', async () => {
      await newCache().save(verifier.issue(aLicenseClaims(clock.now(), { expiresAt: clock.now() })));
      clock.advance(30 * DAY);

      await expect(step.attempt(new ResolutionTrail())).resolves.toBeNull();

      expect(existsSync(cacheFile())).toBe(true);
    });

    it('moves the file of a cached license that can never verify aside, next to it', async () => {
      await newCache().save('not-a-token-this-verifier-issued');

      await expect(step.attempt(new ResolutionTrail())).resolves.toBeNull();

      expect(existsSync(cacheFile())).toBe(false);
      expect(entriesOf(cacheDir)).toEqual([expect.stringMatching(/^license-cache\.json\.rejected-\d{8}T\d{6}\.\d{3}Z$/)]);
    });
  });
});


describe('toCacheError', () => {
  it('maps each file failure to the CacheError callers act on, keeping it as the cause', () => {
    const untrusted = new UntrustedDirectoryError('/c', 'writable by others');
    const corrupt = new CorruptFileError('/c/license-cache.json', 'not valid UTF-8 JSON');
    const tooLarge = new PrivateFileError('TOO_LARGE', '/c/license-cache.json is larger than 65536 bytes');
    const link = new PrivateFileError('SYMLINK', '/c/license-cache.json is a symbolic link');
    const unknown = new Error('no code');
    const mapped = [untrusted, corrupt, tooLarge, link, unknown].map((error) => toCacheError(error, 'read', '/c/license-cache.json'));

    expect(mapped.map((error) => [error.code, error.message, error.cause])).toEqual([
      ['CACHE.UNSAFE_DIRECTORY', 'cache directory /c is not used: writable by others', untrusted],
      ['CACHE.CORRUPT', '/c/license-cache.json is corrupt: not valid UTF-8 JSON', corrupt],
      ['CACHE.TOO_LARGE', '/c/license-cache.json is larger than 65536 bytes', tooLarge],
      ['CACHE.UNSAFE_FILE', '/c/license-cache.json is a symbolic link', link],
      ['CACHE.IO_FAILED', 'could not read /c/license-cache.json (unknown error)', unknown],
    ]);
    const already = new CacheError('CACHE.TIMEOUT', 'slow');
    expect(toCacheError(already, 'read', '/c')).toBe(already);
  });
});
