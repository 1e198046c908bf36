import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateDirectory } from '../../../src/adapters/fs/state-directory.js';
import { JoseLicenseVerifier } from '../../../src/adapters/jose/jose-license-verifier.js';
import { LowdbLicenseCache } from '../../../src/adapters/lowdb/lowdb-license-cache.js';
import { CacheError } from '../../../src/domain/model/errors.js';
import { ResolutionTrail } from '../../../src/domain/model/resolution-trail.js';
import { TextGate } from '../../../src/domain/model/safe-text.js';
import { CachedLicenseStep } from '../../../src/domain/resolution/cached-license.step.js';
import { entriesOf, makeFifo } from '../../support/file-system.js';
import { DAY, FixedClock } from '../../support/fixed-clock.js';
import { InMemoryTrustedTime } from '../../support/in-memory-trusted-time.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { aLicenseToken, generateSigningKey, TEST_ISSUER, type TokenOptions } from '../../support/signing-keys.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

/** DESIGN §8, compatibility: the original product's names, written out so that a wrong constant fails. */
const ORIGINAL = 'license-cache.jwt';
const CURRENT = 'license-cache.json';
const MAX_CACHE_BYTES = 64 * 1024;
const NOW = new Date('2026-06-01T00:00:00Z');
const INSTANCE_ID = '6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f';
const REJECTED = /^license-cache\.jwt\.rejected-\d{8}T\d{6}\.\d{3}Z(-\d+)?$/;

const trusted = generateSigningKey('original-key-1');

let root: string;
let cacheDir: string;
let clock: FixedClock;

beforeEach(() => {
  root = makeTempDir('original-license-cache-');
  cacheDir = join(root, 'cache');
  clock = new FixedClock(NOW);
});

afterEach(() => {
  removeTempDir(root);
});

const newCache = (logger = new RecordingLogger()) => new LowdbLicenseCache(new StateDirectory(cacheDir, logger), clock);
const pathOf = (name: string) => join(cacheDir, name);
/** A Pro license valid for a year, signed by the trusted key, as the Scala server's backend issues it. */
const proToken = (options: TokenOptions = {}) => aLicenseToken(trusted, options, NOW.getTime());

/** Writes `content` as the Scala server leaves it: a file of its own, in a 0700 directory. */
function plantOriginal(content: string | Buffer): void {
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  writeFileSync(pathOf(ORIGINAL), content, { mode: 0o644 });
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

describe("LowdbLicenseCache reading the original product's license-cache.jwt", () => {
  describe('load', () => {
    it.each([
      ['as written', (jwt: string) => jwt],
      ['with a trailing newline', (jwt: string) => `${jwt}\n`],
      ['with CRLF and surrounding spaces and tabs', (jwt: string) => ` \t${jwt}\r\n\r\n`],
    ])('returns the JWT of a plain-JWT file %s, when license-cache.json is absent', async (_case, write) => {
      const jwt = await proToken();
      plantOriginal(write(jwt));

      await expect(newCache().load()).resolves.toBe(jwt);
    });

    it('prefers license-cache.json when both exist', async () => {
      const [current, original] = [await proToken({ jti: 'current' }), await proToken({ jti: 'original' })];
      plantOriginal(`${original}\n`);
      await newCache().save(current);

      await expect(newCache().load()).resolves.toBe(current);
    });

    it('does not fall back to it when license-cache.json is there but corrupt', async () => {
      plantOriginal(await proToken());
      writeFileSync(pathOf(CURRENT), '{"jwt": tru');

      expect((await cacheErrorFrom(newCache().load())).code).toBe('CACHE.CORRUPT');
    });

    it.each(['', '\n', ' \r\n\t '])('reads a file of only whitespace (%p) as no cache, as the original does', async (content) => {
      plantOriginal(content);

      await expect(newCache().load()).resolves.toBeNull();
    });

    it('trims ASCII whitespace only: anything else stays, for the verifier to refuse', async () => {
      const jwt = await proToken();
      plantOriginal(`\ufeff${jwt}\u00a0\n`);

      await expect(newCache().load()).resolves.toBe(`\ufeff${jwt}\u00a0`);
    });

    it('refuses invalid UTF-8 as CACHE.CORRUPT, naming the file without quoting it', async () => {
      plantOriginal(Buffer.concat([Buffer.from('eyJhbGciOiJFZERTQSJ9.'), Buffer.from([0xff, 0xfe])]));

      const error = await cacheErrorFrom(newCache().load());

      expect(error.code).toBe('CACHE.CORRUPT');
      expect(error.message).toContain(pathOf(ORIGINAL));
      expect(error.message).not.toContain('eyJ');
    });

    it('reads a file of exactly 64 KiB and refuses one byte more as CACHE.TOO_LARGE', async () => {
      const jwt = await proToken();
      plantOriginal(`${jwt}\n`.padEnd(MAX_CACHE_BYTES, ' '));
      await expect(newCache().load()).resolves.toBe(jwt);

      plantOriginal(`${jwt}\n`.padEnd(MAX_CACHE_BYTES + 1, ' '));
      expect((await cacheErrorFrom(newCache().load())).code).toBe('CACHE.TOO_LARGE');
    });

    it.each<[string, () => Promise<void>]>([
      [
        'a symbolic link to a valid token',
        async () => {
          const target = join(root, 'planted.jwt');
          writeFileSync(target, await proToken());
          symlinkSync(target, pathOf(ORIGINAL));
        },
      ],
      ['a FIFO (read without waiting for a writer)', async () => makeFifo(pathOf(ORIGINAL))],
      ['a directory', async () => mkdirSync(pathOf(ORIGINAL))],
    ])('refuses %s as CACHE.UNSAFE_FILE', async (_case, plant) => {
      mkdirSync(cacheDir, { mode: 0o700 });
      await plant();

      const error = await cacheErrorFrom(newCache().load());

      expect(error.code).toBe('CACHE.UNSAFE_FILE');
      expect(error.message).toContain(pathOf(ORIGINAL));
    });

    it('reads nothing from a directory that is not ours, and leaves the file alone', async () => {
      const jwt = await proToken();
      plantOriginal(jwt);
      chmodSync(cacheDir, 0o777);

      expect((await cacheErrorFrom(newCache().load())).code).toBe('CACHE.UNSAFE_DIRECTORY');
      expect(readFileSync(pathOf(ORIGINAL), 'utf8')).toBe(jwt);
    });
  });

  describe('is never written', () => {
    it('a save writes license-cache.json and leaves the original file byte for byte, mode included', async () => {
      const [original, issued] = [`${await proToken({ jti: 'original' })}\n`, await proToken({ jti: 'issued' })];
      plantOriginal(original);

      await newCache().save(issued);

      expect(readFileSync(pathOf(ORIGINAL), 'utf8')).toBe(original);
      expect(lstatSync(pathOf(ORIGINAL)).mode & 0o777).toBe(0o644);
      expect(entriesOf(cacheDir)).toEqual([CURRENT, ORIGINAL]);
      await expect(newCache().load()).resolves.toBe(issued);
    });

    it('a save into an empty directory creates no file of the old form', async () => {
      await newCache().save(await proToken());

      expect(entriesOf(cacheDir)).toEqual([CURRENT]);
    });
  });

  describe('setAside', () => {
    it('moves the original file aside as license-cache.jwt.rejected-<UTC time>, content intact, when the last load read it', async () => {
      const content = `${await proToken()}\n`;
      plantOriginal(content);
      const cache = newCache();
      await cache.load();

      const aside = await cache.setAside();

      expect(aside).toBe(pathOf('license-cache.jwt.rejected-20260601T000000.000Z'));
      expect(readFileSync(aside as string, 'utf8')).toBe(content);
      expect(entriesOf(cacheDir)).toEqual(['license-cache.jwt.rejected-20260601T000000.000Z']);
      await expect(cache.load()).resolves.toBeNull();
    });

    it('moves license-cache.json, not the original file, when the last load read the JSON', async () => {
      const original = await proToken({ jti: 'original' });
      plantOriginal(original);
      const cache = newCache();
      await cache.save(await proToken({ jti: 'current' }));
      await cache.load();

      await cache.setAside();

      expect(readFileSync(pathOf(ORIGINAL), 'utf8')).toBe(original);
      expect(existsSync(pathOf(CURRENT))).toBe(false);
    });

    it('keeps the three newest original files set aside, also a dozen within one millisecond', async () => {
      for (let i = 0; i < 12; i += 1) {
        plantOriginal(`token-${i}`);
        const cache = newCache();
        await cache.load();
        await cache.setAside();
      }

      const kept = entriesOf(cacheDir).filter((name) => REJECTED.test(name));
      expect(kept).toHaveLength(3);
      expect(kept.map((name) => readFileSync(pathOf(name), 'utf8')).sort()).toEqual(['token-10', 'token-11', 'token-9']);
    });
  });

  describe('behind the cached-license step, with real signed tokens', () => {
    let logger: RecordingLogger;
    let step: CachedLicenseStep;

    beforeEach(() => {
      logger = new RecordingLogger();
      const verifier = new JoseLicenseVerifier(
        { keys: new Map([[trusted.kid, trusted.publicKey]]), issuer: TEST_ISSUER, instanceId: INSTANCE_ID, gracePeriodMs: 14 * DAY, logger },
        clock,
      );
      step = new CachedLicenseStep(newCache(logger), verifier, new InMemoryTrustedTime(), logger, new TextGate());
    });

    it("runs the Scala server's offline license: Pro, from the cache", async () => {
      plantOriginal(`${await proToken({ instanceId: INSTANCE_ID })}\n`);
      const trail = new ResolutionTrail();

      const license = await step.attempt(trail);

      expect(license).toMatchObject({ tier: 'pro', source: 'cache', orgName: 'Acme Corp', platform: 'PRODUCTION' });
      expect(trail.attempts()).toEqual([expect.objectContaining({ source: 'cache', outcome: 'used' })]);
      expect(logger.at('warn')).toEqual(['Using cached license']);
    });

    it.each<[string, () => Promise<string>]>([
      ['a bad signature under the trusted key', async () => `${(await proToken()).slice(0, -4)}AAAA`],
      ['a license bound to another instance', () => proToken({ instanceId: '00000000-0000-4000-8000-000000000000' })],
      ['a byte-order mark before the token', async () => `\ufeff${await proToken()}`],
    ])('moves aside, never deletes, an original file holding %s', async (_case, content) => {
      const written = await content();
      plantOriginal(`${written}\n`);

      await expect(step.attempt(new ResolutionTrail())).resolves.toBeNull();

      const names = entriesOf(cacheDir);
      expect(names).toEqual([expect.stringMatching(REJECTED)]);
      expect(readFileSync(pathOf(names[0] as string), 'utf8')).toBe(`${written}\n`);
      expect(logger.at('warn')).toEqual([expect.stringMatching(/^Cached license rejected and moved aside: /)]);
      expect(logger.entries.at(-1)?.fields).toEqual({ moved_to: pathOf(names[0] as string) });
    });

    it.each<[string, () => Promise<string>]>([
      ['expired past its grace by this clock', () => proToken({ issuedAt: NOW.getTime() / 1000 - 90 * 86_400, expiresAt: NOW.getTime() / 1000 - 30 * 86_400 })],
      ['signed by a key this agent does not trust (yet)', () => aLicenseToken(generateSigningKey('next-key'), {}, NOW.getTime())],
    ])('leaves in place an original file refused for local reasons: %s', async (_case, content) => {
      const written = `${await content()}\n`;
      plantOriginal(written);

      await expect(step.attempt(new ResolutionTrail())).resolves.toBeNull();

      expect(entriesOf(cacheDir)).toEqual([ORIGINAL]);
      expect(readFileSync(pathOf(ORIGINAL), 'utf8')).toBe(written);
      expect(logger.at('warn')).toEqual([expect.stringMatching(/^Cached license not used \(kept, it may verify later\): /)]);
    });
  });
});
