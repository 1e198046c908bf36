import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { RedisClientType } from 'redis';
import { JoseLicenseVerifier } from '../../../src/adapters/jose/jose-license-verifier.js';
import { RedisFleetConnection } from '../../../src/adapters/redis/redis-fleet-connection.js';
import { RedisFleetMembership } from '../../../src/adapters/redis/redis-fleet-membership.js';
import { RedisInstanceIdStore } from '../../../src/adapters/redis/redis-instance-id-store.js';
import { RedisLeaseCoordinator } from '../../../src/adapters/redis/redis-lease-coordinator.js';
import { RedisRefreshRelay } from '../../../src/adapters/redis/redis-refresh-relay.js';
import { RedisSharedLicenseStore } from '../../../src/adapters/redis/redis-shared-license-store.js';
import { AdoptSharedLicense } from '../../../src/domain/fleet/adopt-shared-license.js';
import { LicenseState } from '../../../src/domain/model/license-state.js';
import { TextGate } from '../../../src/domain/model/safe-text.js';
import { DAY, FixedClock } from '../../support/fixed-clock.js';
import { InMemoryLicenseCache } from '../../support/in-memory-license-cache.js';
import { InMemoryTrustedTime } from '../../support/in-memory-trusted-time.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { deleteFleetKeys, freshFleetId, REDIS_URL, testRedis } from '../../support/redis.js';
import { aLicenseToken, generateSigningKey, TEST_ISSUER, type TokenOptions } from '../../support/signing-keys.js';
import { waitUntil } from '../../support/waiting.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const INSTANCE_ID = '0b6f8a4e-2c1d-4e5f-9a8b-7c6d5e4f3a2b';
const trustedKey = generateSigningKey('fleet-key');
const forgerKey = generateSigningKey('fleet-key'); // same kid, another key

describe('fleet mode on a real Redis', () => {
  let raw: RedisClientType;
  let fleetId: string;
  const connections: RedisFleetConnection[] = [];
  const logger = new RecordingLogger();
  const gate = new TextGate();

  const connect = async (ttlMs = 1_000) => {
    const connection = new RedisFleetConnection({ url: new URL(REDIS_URL), fleetId, commandTimeoutMs: 1_000 }, logger, gate);
    connections.push(connection);
    expect(await connection.open()).toBe(true);
    return {
      connection,
      lease: new RedisLeaseCoordinator(connection, ttlMs),
      store: new RedisSharedLicenseStore(connection),
      relay: new RedisRefreshRelay(connection),
      membership: new RedisFleetMembership(connection),
    };
  };

  beforeAll(async () => {
    raw = await testRedis();
  });
  afterAll(() => raw?.destroy());
  beforeEach(() => {
    fleetId = freshFleetId();
  });
  afterEach(async () => {
    for (const connection of connections.splice(0)) connection.close();
    await deleteFleetKeys(raw, fleetId);
  });

  describe('the lease', () => {
    it('is held by one member at a time, renewed with the same fence, taken over with a higher one once it runs out', async () => {
      const a = await connect(300);
      const b = await connect(300);
      const first = await a.lease.acquire();
      expect(first).toEqual({ held: true, fence: expect.any(Number) });
      const fence = (first as { fence: number }).fence;
      expect(await a.lease.acquire()).toEqual({ held: true, fence });
      const refused = await b.lease.acquire();
      expect(refused.held).toBe(false);
      expect((refused as { expiresInMs: number }).expiresInMs).toBeLessThanOrEqual(300);
      expect(await raw.get(`softclient4es:fleet:${fleetId}:lease`)).toBe(`${a.connection.memberId} ${fence}`);

      await new Promise((resolve) => setTimeout(resolve, 350)); // a stops renewing
      expect(await b.lease.acquire()).toEqual({ held: true, fence: fence + 1 });
      expect((await a.lease.acquire()).held).toBe(false);
    });

    it('is released only by its holder', async () => {
      const a = await connect(10_000);
      const b = await connect(10_000);
      await a.lease.acquire();
      await b.lease.release();
      expect((await b.lease.acquire()).held).toBe(false);
      await a.lease.release();
      expect((await b.lease.acquire()).held).toBe(true);
    });
  });

  describe('the shared license', () => {
    it('refuses a write with a lower fence than the stored one (a deposed holder), and announces each accepted one', async () => {
      const { store } = await connect();
      const announcements: number[] = [];
      store.onPublished(() => announcements.push(Date.now()));
      await new Promise((resolve) => setTimeout(resolve, 100)); // subscribed
      expect(await store.publish({ jwt: 'jwt-of-fence-2', fence: 2 })).toBe(true);
      expect(await store.publish({ jwt: 'late-jwt-of-fence-1', fence: 1 })).toBe(false);
      expect(await store.load()).toEqual({ jwt: 'jwt-of-fence-2', fence: 2 });
      expect(await store.publish({ jwt: 'jwt-of-fence-3', fence: 3 })).toBe(true);
      await waitUntil(() => announcements.length === 2, 'both accepted writes were announced', 2_000);
    });

    it.each([
      ['garbage', 'not json at all', 'FLEET.CORRUPT'],
      ['a record without a JWT', JSON.stringify({ fence: 3 }), 'FLEET.CORRUPT'],
      ['a record with a bad fence', JSON.stringify({ jwt: 'x', fence: -1 }), 'FLEET.CORRUPT'],
      ['an oversized value', 'x'.repeat(200_000), 'FLEET.TOO_LARGE'],
    ])('reads %s as a FleetError, never a license', async (_what, value, code) => {
      const { store } = await connect();
      await raw.set(`softclient4es:fleet:${fleetId}:license`, value);
      await expect(store.load()).rejects.toMatchObject({ code });
    });

    it('reads a key of another type as corrupt', async () => {
      const { store } = await connect();
      await raw.hSet(`softclient4es:fleet:${fleetId}:license`, { jwt: 'x' });
      await expect(store.load()).rejects.toMatchObject({ code: 'FLEET.CORRUPT' });
    });
  });

  describe('adopting the shared license', () => {
    let clock: FixedClock;
    let state: LicenseState;
    let trustedTime: InMemoryTrustedTime;
    let cache: InMemoryLicenseCache;
    let adopt: AdoptSharedLicense;
    let store: RedisSharedLicenseStore;

    const token = (options: TokenOptions = {}, key = trustedKey) => aLicenseToken(key, { instanceId: INSTANCE_ID, ...options }, NOW.getTime());
    const plant = async (jwt: string, fence = 9) => {
      await raw.set(`softclient4es:fleet:${fleetId}:license`, JSON.stringify({ jwt, fence }));
    };

    beforeEach(async () => {
      logger.entries.length = 0;
      clock = new FixedClock(NOW);
      state = new LicenseState(NOW);
      trustedTime = new InMemoryTrustedTime();
      cache = new InMemoryLicenseCache();
      ({ store } = await connect());
      const verifier = new JoseLicenseVerifier(
        { keys: new Map([[trustedKey.kid, trustedKey.publicKey]]), issuer: TEST_ISSUER, instanceId: INSTANCE_ID, gracePeriodMs: 14 * DAY },
        clock,
      );
      adopt = new AdoptSharedLicense(store, verifier, trustedTime, state, cache, clock, logger, gate);
      await store.publish({ jwt: await token({ tier: 'pro' }), fence: 1 });
      expect(await adopt.execute()).toBe('adopted');
      expect(state.current().license).toMatchObject({ tier: 'pro', source: 'api_key' });
    });

    it('adopts a newer license, logs the tier change, and caches it on disk', async () => {
      const enterprise = await token({ tier: 'enterprise', issuedAt: NOW_SECONDS - 10 });
      await store.publish({ jwt: enterprise, fence: 2 });
      expect(await adopt.execute()).toBe('adopted');
      expect(state.current().license.tier).toBe('enterprise');
      expect(logger.entries.map((entry) => entry.message)).toContain('License upgraded from Pro to Enterprise');
      await waitUntil(() => cache.jwt === enterprise, 'the adopted license is cached');
      expect(await adopt.execute()).toBe('unchanged');
    });

    const hostile: [string, () => Promise<void>, string][] = [
      ['an unsigned token (alg none)', async () => plant(`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: TEST_ISSUER, tier: 'enterprise', iat: NOW_SECONDS, exp: NOW_SECONDS + DAY })}.`), 'LICENSE.'],
      ['a forged token (same kid, another key)', async () => plant(await token({ tier: 'enterprise' }, forgerKey)), 'LICENSE.SIGNATURE_INVALID'],
      ['a superseded token (older than the one accepted)', async () => plant(await token({ tier: 'enterprise', issuedAt: NOW_SECONDS - 3_600 })), 'LICENSE.SUPERSEDED'],
      ['a token of another instance', async () => plant(await token({ tier: 'enterprise', instanceId: '11111111-2222-4333-8444-555555555555' })), 'LICENSE.INSTANCE_MISMATCH'],
      ['a token expired past its grace', async () => plant(await token({ tier: 'enterprise', issuedAt: NOW_SECONDS - 40 * 86_400, expiresAt: NOW_SECONDS - 20 * 86_400 })), 'LICENSE.'],
      ['an oversized record', async () => raw.set(`softclient4es:fleet:${fleetId}:license`, 'x'.repeat(100_000)).then(() => undefined), 'FLEET.TOO_LARGE'],
      ['garbage', async () => raw.set(`softclient4es:fleet:${fleetId}:license`, '{"jwt": 42').then(() => undefined), 'FLEET.CORRUPT'],
      ['a JWT that is no JWT', async () => plant('eyJhbGciOiJFZERTQSJ9.garbage.garbage'), 'LICENSE.'],
    ];

    it.each(hostile)('refuses %s: the license in force stays, one WARN', async (_what, write, code) => {
      const before = state.current();
      await write();
      expect(await adopt.execute()).toBe('refused');
      expect(state.current()).toBe(before);
      const warnings = logger.entries.filter((entry) => entry.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]!.fields.code)).toContain(code);
      expect(warnings[0]!.message).toMatch(/^Fleet license (record )?refused/);
      expect(await adopt.execute()).toBe('refused'); // found again: not logged again
      expect(logger.entries.filter((entry) => entry.level === 'warn')).toHaveLength(1);
    });
  });

  describe('the instance id', () => {
    const localStore = (id: string) => ({ load: async () => id });

    it('is the first member\'s local id, adopted by the fleet with SET NX; later members use it', async () => {
      const { connection } = await connect();
      const { connection: other } = await connect();
      const first = new RedisInstanceIdStore(localStore('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'), connection, logger);
      const second = new RedisInstanceIdStore(localStore('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'), other, logger);
      expect(await first.load()).toBe('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
      expect(await second.load()).toBe('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
      expect(await second.rejoin()).toBe(true);
      await raw.del(`softclient4es:fleet:${fleetId}:instance-id`); // Redis came back empty
      expect(await second.rejoin()).toBe(true);
      expect(await raw.get(`softclient4es:fleet:${fleetId}:instance-id`)).toBe('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
    });

    it('falls back to the local id, standalone, when the stored value is not a UUID', async () => {
      const { connection } = await connect();
      await raw.set(`softclient4es:fleet:${fleetId}:instance-id`, 'not-a-uuid');
      const store = new RedisInstanceIdStore(localStore('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'), connection, logger);
      expect(await store.load()).toBe('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
      expect(await store.rejoin()).toBe(false);
    });
  });

  describe('membership and forwarded refreshes', () => {
    it('counts members by heartbeat; a member that stops beating drops out', async () => {
      const a = await connect();
      const b = await connect();
      expect(await a.membership.heartbeat(5_000)).toBe(1);
      expect(await b.membership.heartbeat(200)).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await a.membership.heartbeat(5_000)).toBe(1);
      await a.membership.leave();
      expect(await raw.exists(`softclient4es:fleet:${fleetId}:member:${a.connection.memberId}`)).toBe(0);
    });

    it('carries a refresh to the member that serves (the holder) and its outcome back; null when nobody serves', async () => {
      const holder = await connect();
      const asker = await connect();
      let serving = true;
      let calls = 0;
      holder.relay.serve(
        () => serving,
        async () => {
          calls += 1;
          return { status: 'failed', code: 'BACKEND.TIMEOUT', message: 'slow backend' };
        },
      );
      await new Promise((resolve) => setTimeout(resolve, 100)); // subscribed
      expect(await asker.relay.forward(2_000)).toEqual({ status: 'failed', code: 'BACKEND.TIMEOUT', message: 'slow backend' });
      expect(calls).toBe(1);
      serving = false;
      const started = Date.now();
      expect(await asker.relay.forward(400)).toBeNull();
      expect(Date.now() - started).toBeLessThan(1_500);
    });
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
