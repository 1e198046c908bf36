import { describe, expect, it } from '@jest/globals';
import { AdoptSharedLicense } from '../../../src/domain/fleet/adopt-shared-license.js';
import { CacheError, FleetError } from '../../../src/domain/model/errors.js';
import { LicenseState } from '../../../src/domain/model/license-state.js';
import { licenseFromToken } from '../../../src/domain/model/license.js';
import { REDACTED, TextGate } from '../../../src/domain/model/safe-text.js';
import type { SharedLicense, SharedLicenseStore } from '../../../src/ports/shared-license-store.port.js';
import { FakeLicenseVerifier } from '../../support/fake-license-verifier.js';
import { DAY, FixedClock } from '../../support/fixed-clock.js';
import { InMemoryLicenseCache } from '../../support/in-memory-license-cache.js';
import { InMemoryTrustedTime } from '../../support/in-memory-trusted-time.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { RecordingLogger } from '../../support/recording-logger.js';

const INSTANCE_ID = '6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f';
const SECRET = 'sk-live-0123456789abcdef';

/** The fleet store in memory: holds one record, or fails every load with `failLoadWith`. */
class InMemorySharedLicenseStore implements SharedLicenseStore {
  record: SharedLicense | null = null;
  failLoadWith: unknown = null;

  async load(): Promise<SharedLicense | null> {
    if (this.failLoadWith !== null) throw this.failLoadWith;
    return this.record;
  }

  async publish(license: SharedLicense): Promise<boolean> {
    this.record = license;
    return true;
  }

  onPublished(): () => void {
    return () => undefined;
  }
}

function adoption() {
  const clock = new FixedClock();
  const logger = new RecordingLogger();
  const verifier = new FakeLicenseVerifier(clock, { gracePeriodMs: 14 * DAY, instanceId: INSTANCE_ID });
  const store = new InMemorySharedLicenseStore();
  const trustedTime = new InMemoryTrustedTime();
  const state = new LicenseState(clock.now());
  const cache = new InMemoryLicenseCache();
  const adopt = new AdoptSharedLicense(store, verifier, trustedTime, state, cache, clock, logger, new TextGate([SECRET]));
  const token = (overrides: Parameters<typeof aLicenseClaims>[1] = {}) => verifier.issue(aLicenseClaims(clock.now(), overrides));
  const share = (jwt: string) => {
    store.record = { jwt, fence: 1 };
    return jwt;
  };
  return { clock, logger, verifier, store, trustedTime, state, cache, adopt, token, share };
}

describe('AdoptSharedLicense', () => {
  it('adopts a verified record as the API key\'s license: in force, logged with tier, source and fleet, accepted as backend-issued, cached', async () => {
    const a = adoption();
    const issuedAt = new Date(a.clock.now().getTime() - DAY);
    const jwt = a.share(a.token({ tier: 'enterprise', issuedAt }));

    expect(await a.adopt.execute()).toBe('adopted');

    expect(a.state.current().license).toMatchObject({ tier: 'enterprise', source: 'api_key' });
    expect(a.state.current().resolution).toEqual([
      { source: 'api_key', outcome: 'used', code: null, message: 'issued to the fleet lease holder and adopted from the fleet' },
    ]);
    expect(a.logger.entries).toEqual([
      { level: 'info', message: 'License upgraded from Community to Enterprise', fields: { tier: 'enterprise', source: 'api_key', fleet: true } },
    ]);
    expect(a.trustedTime.acceptedTokens).toEqual([{ issuedAt, fromBackend: true }]);
    await Promise.resolve();
    expect(a.cache.jwt).toBe(jwt);
  });

  it('logs no tier change when the tier stays', async () => {
    const a = adoption();
    a.share(a.token({ tier: 'pro' }));
    await a.adopt.execute();
    a.logger.clear();
    a.share(a.token({ tier: 'pro' }));

    expect(await a.adopt.execute()).toBe('adopted');
    expect(a.logger.entries).toEqual([]);
  });

  it('an empty store is "absent", and changes nothing', async () => {
    const a = adoption();
    const before = a.state.current();

    expect(await a.adopt.execute()).toBe('absent');
    expect(a.state.current()).toBe(before);
    expect(a.logger.entries).toEqual([]);
  });

  it('an unreachable store is "unavailable", silently (the member says so)', async () => {
    const a = adoption();
    a.store.failLoadWith = new FleetError('FLEET.UNREACHABLE', 'redis is down');

    expect(await a.adopt.execute()).toBe('unavailable');
    expect(a.logger.entries).toEqual([]);
  });

  it('a corrupt record is refused with one WARN, gated, with its code', async () => {
    const a = adoption();
    a.store.failLoadWith = new FleetError('FLEET.CORRUPT', `fleet license record is not JSON: ${SECRET}`);

    expect(await a.adopt.execute()).toBe('refused');
    expect(a.logger.entries).toEqual([
      { level: 'warn', message: `Fleet license record refused (the license in force stays): fleet license record is not JSON: ${REDACTED}`, fields: { code: 'FLEET.CORRUPT' } },
    ]);
  });

  it('a store that fails unexpectedly is refused, the error logged whole under a generic code', async () => {
    const a = adoption();
    const bug = new TypeError('store plugin bug');
    a.store.failLoadWith = bug;

    expect(await a.adopt.execute()).toBe('refused');
    expect(a.logger.entries).toEqual([
      { level: 'warn', message: 'Fleet license record refused (the license in force stays): unexpected internal error', fields: { code: 'INTERNAL.UNEXPECTED', err: bug } },
    ]);
  });

  it('a record that does not verify is refused with one WARN; found again, not logged again; a different refusal is', async () => {
    const a = adoption();
    const before = a.state.current();
    a.share('forged-token');

    expect(await a.adopt.execute()).toBe('refused');
    expect(await a.adopt.execute()).toBe('refused');
    a.store.failLoadWith = new FleetError('FLEET.TOO_LARGE', 'too large');
    expect(await a.adopt.execute()).toBe('refused');

    expect(a.state.current()).toBe(before);
    expect(a.logger.entries).toEqual([
      { level: 'warn', message: 'Fleet license refused (the license in force stays): license token signature does not verify', fields: { code: 'LICENSE.SIGNATURE_INVALID' } },
      { level: 'warn', message: 'Fleet license record refused (the license in force stays): too large', fields: { code: 'FLEET.TOO_LARGE' } },
    ]);
    expect(a.cache.saves).toBe(0);
  });

  it('a refusal after an adoption is logged again, even the same one as before it', async () => {
    const a = adoption();
    a.share('forged-token');
    await a.adopt.execute();
    a.share(a.token());
    expect(await a.adopt.execute()).toBe('adopted');
    a.logger.clear();
    a.share('forged-token');

    expect(await a.adopt.execute()).toBe('refused');
    expect(a.logger.at('warn')).toEqual(['Fleet license refused (the license in force stays): license token signature does not verify']);
  });

  it('a record older than the newest backend license accepted is refused (superseded)', async () => {
    const a = adoption();
    a.trustedTime.newest = a.clock.now();
    a.share(a.token({ issuedAt: new Date(a.clock.now().getTime() - DAY) }));

    expect(await a.adopt.execute()).toBe('refused');
    expect(a.logger.entries.map((entry) => entry.fields)).toEqual([{ code: 'LICENSE.SUPERSEDED' }]);
  });

  it('the record already in force is "unchanged"; once another license was put in force, the same record is adopted again', async () => {
    const a = adoption();
    const jwt = a.share(a.token({ tier: 'pro' }));
    await a.adopt.execute();

    expect(await a.adopt.execute()).toBe('unchanged');

    const other = await a.verifier.verify(a.token({ tier: 'enterprise' }));
    a.state.install(licenseFromToken(other, 'api_key'), [], a.clock.now());
    expect(await a.adopt.execute()).toBe('adopted');
    expect(a.state.current().license.tier).toBe('pro');
    expect(a.store.record?.jwt).toBe(jwt);
  });

  it('a static license in force ranks first: "unchanged", nothing verified or logged', async () => {
    const a = adoption();
    const staticToken = await a.verifier.verify(a.token({ tier: 'pro' }));
    a.state.install(licenseFromToken(staticToken, 'static'), [], a.clock.now());
    const before = a.state.current();
    a.share('forged-token');

    expect(await a.adopt.execute()).toBe('unchanged');
    expect(a.state.current()).toBe(before);
    expect(a.logger.entries).toEqual([]);
  });

  it('a cache write that fails is logged at WARN with its code; the adoption stands', async () => {
    const a = adoption();
    a.cache.failSaveWith = new CacheError('CACHE.IO_FAILED', 'could not write /x (EACCES)');
    a.share(a.token({ tier: 'pro' }));

    expect(await a.adopt.execute()).toBe('adopted');
    await new Promise((resolve) => setImmediate(resolve));

    expect(a.logger.entries.filter((entry) => entry.level === 'warn')).toEqual([
      { level: 'warn', message: 'Could not write the license cache', fields: { code: 'CACHE.IO_FAILED' } },
    ]);
    expect(a.state.current().license.tier).toBe('pro');
  });
});
