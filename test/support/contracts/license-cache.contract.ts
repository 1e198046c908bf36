import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { LicenseCache } from '../../../src/ports/license-cache.port.js';

export interface LicenseCacheSubject {
  readonly cache: LicenseCache;
  /** Releases what the subject holds (a temp directory); optional. */
  readonly dispose?: () => void;
}

const FIRST_JWT = 'eyJhbGciOiJFZERTQSJ9.eyJ0aWVyIjoicHJvIn0.Zmlyc3Q';
const SECOND_JWT = 'eyJhbGciOiJFZERTQSJ9.eyJ0aWVyIjoiZW50ZXJwcmlzZSJ9.c2Vjb25k';

/** What every `LicenseCache` does, the fake as much as the real adapter. */
export function licenseCacheContract(name: string, makeSubject: () => LicenseCacheSubject): void {
  describe(`${name} (LicenseCache contract)`, () => {
    let subject: LicenseCacheSubject;

    beforeEach(() => {
      subject = makeSubject();
    });

    afterEach(() => {
      subject.dispose?.();
    });

    it('loads null when nothing was ever saved', async () => {
      await expect(subject.cache.load()).resolves.toBeNull();
    });

    it('loads the JWT that was saved', async () => {
      await subject.cache.save(FIRST_JWT);

      await expect(subject.cache.load()).resolves.toBe(FIRST_JWT);
    });

    it('keeps only the latest JWT saved', async () => {
      await subject.cache.save(FIRST_JWT);
      await subject.cache.save(SECOND_JWT);

      await expect(subject.cache.load()).resolves.toBe(SECOND_JWT);
    });

    it('loads null after the JWT was set aside, and says where it went', async () => {
      await subject.cache.save(FIRST_JWT);

      await expect(subject.cache.setAside()).resolves.toEqual(expect.any(String));

      await expect(subject.cache.load()).resolves.toBeNull();
    });

    it('sets aside nothing from an empty cache', async () => {
      await expect(subject.cache.setAside()).resolves.toBeNull();
      await expect(subject.cache.load()).resolves.toBeNull();
    });

    it('saves again after a set-aside', async () => {
      await subject.cache.save(FIRST_JWT);
      await subject.cache.setAside();

      await subject.cache.save(SECOND_JWT);

      await expect(subject.cache.load()).resolves.toBe(SECOND_JWT);
    });
  });
}
