import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import type { RedisClientType } from 'redis';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { issueToken, respondJson } from '../support/fake-license-backend.js';
import { deleteFleetKeys, freshFleetId, PrivateRedis, REDIS_URL, testRedis } from '../support/redis.js';
import { ServerProcess, type LogLine } from '../support/server-process.js';
import { aLicenseToken } from '../support/signing-keys.js';
import { waitUntil } from '../support/waiting.js';

const API_KEY = 'sk-e2e-fleet-secret-key';
const LEASE_TTL_MS = 2_000;
const INTERVAL_MS = 3_000;

interface Member {
  readonly name: string;
  readonly server: ServerProcess;
  readonly url: string;
}

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const statusOf = async (member: Member) => (await (await fetch(`${member.url}/admin/license`, { headers: admin })).json()) as Record<string, any>;
const isLine = (msg: string) => (line: LogLine) => line.msg === msg;
const timeOf = (line: LogLine) => Date.parse(String(line.time));

describe('a fleet of built servers on one Redis and one backend', () => {
  let redis: RedisClientType;
  let env: AgentEnvironment;
  let fleetId: string;
  let members: Member[] = [];
  /** When each backend request arrived. */
  let requestTimes: number[] = [];

  beforeAll(async () => {
    redis = await testRedis();
  });
  afterAll(() => {
    redis?.destroy();
  });
  beforeEach(async () => {
    env = await AgentEnvironment.create();
    fleetId = freshFleetId();
    members = [];
    requestTimes = [];
  });
  afterEach(async () => {
    await Promise.all(members.map((member) => member.server.kill()));
    await env.dispose();
    await deleteFleetKeys(redis, fleetId);
  });

  /** The backend issues `jwt` (recording when each request came). */
  const issue = (jwt: string) =>
    env.backend.handle(async (request, response) => {
      requestTimes.push(Date.now());
      await issueToken(jwt)(request, response);
    });

  const startMember = async (name: string, overrides: Record<string, string> = {}, intervalMs = INTERVAL_MS): Promise<Member> => {
    const { server, url } = await ServerProcess.start(
      env.env({
        SOFTCLIENT4ES_API_KEY: API_KEY,
        SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: `${intervalMs}ms`,
        SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s',
        SOFTCLIENT4ES_LICENSE_CACHE_DIR: join(env.dir, `cache-${name}`),
        SOFTCLIENT4ES_FLEET_REDIS_URL: REDIS_URL,
        SOFTCLIENT4ES_FLEET_ID: fleetId,
        SOFTCLIENT4ES_FLEET_LEASE_TTL: `${LEASE_TTL_MS}ms`,
        ...overrides,
      }),
    );
    const member = { name, server, url };
    members.push(member);
    return member;
  };

  /** Starts the first member (the leader) on Pro, then two followers, which adopt its license. */
  const startFleetOnPro = async (intervalMs = INTERVAL_MS) => {
    issue(await aLicenseToken(env.key, { tier: 'pro' }));
    const leader = await startMember('a', {}, intervalMs);
    await leader.server.waitForLog(isLine('Fleet role: leader'));
    await leader.server.waitForLog(isLine('License upgraded from Community to Pro'));
    const followers = [await startMember('b', {}, intervalMs), await startMember('c', {}, intervalMs)];
    for (const follower of followers) {
      await follower.server.waitForLog(isLine('Fleet role: follower'));
      await follower.server.waitForLog(isLine('License upgraded from Community to Pro'));
    }
    return { leader, followers };
  };

  it('makes one backend call per refresh, on the leader, and all members switch Pro → Enterprise within 1 s of it', async () => {
    const { leader, followers } = await startFleetOnPro();
    // The leader's start-up and its periodic refreshes since, nothing more: the followers adopted its license.
    expect(requestTimes.length).toBeLessThanOrEqual(1 + Math.floor((Date.now() - requestTimes[0]!) / (0.9 * INTERVAL_MS)));

    const switchedAt = Date.now();
    issue(await aLicenseToken(env.key, { tier: 'enterprise' }));
    const upgraded = await Promise.all(members.map((member) => member.server.waitForLog(isLine('License upgraded from Pro to Enterprise'), 3 * INTERVAL_MS)));
    const leaderAt = timeOf(upgraded[0]!);
    for (const line of upgraded) expect(timeOf(line) - leaderAt).toBeLessThanOrEqual(1_000);
    expect(leaderAt).toBeGreaterThanOrEqual(switchedAt);

    // Two more periodic refreshes: one backend request each, whatever the number of members.
    const before = requestTimes.length;
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS + 500));
    const more = requestTimes.length - before;
    expect(more).toBeGreaterThanOrEqual(1);
    expect(more).toBeLessThanOrEqual(3);
    const gaps = requestTimes.slice(1).map((time, i) => time - requestTimes[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThan(0.85 * INTERVAL_MS); // never two calls for one refresh

    for (const follower of followers) {
      const metrics = await (await fetch(`${follower.url}/metrics`)).text();
      expect(metrics).not.toMatch(/^softclient4es_license_refresh_attempts_total\{[^}]*\} [1-9]/m); // a follower never called the backend
      expect(metrics).toMatch(/^softclient4es_fleet_role\{role="follower"\} 1$/m);
      expect(metrics).toMatch(/^softclient4es_fleet_members 3$/m);
      expect((await statusOf(follower)).fleet).toMatchObject({ id: fleetId, connected: true, role: 'follower', members: 3, last_sync_at: expect.any(String) });
    }
    expect((await statusOf(leader)).fleet).toMatchObject({ id: fleetId, connected: true, role: 'leader', members: 3 });
    const instanceIds = new Set(await Promise.all(members.map(async (member) => (await statusOf(member)).instance_id)));
    expect(instanceIds.size).toBe(1); // one installation
    for (const member of members) expect(member.server.stdout).not.toContain(API_KEY);
  });

  it('has a forced refresh asked on a follower performed by the leader, and answers with its outcome', async () => {
    const { leader, followers } = await startFleetOnPro(60_000); // no periodic refresh meanwhile
    expect(requestTimes).toHaveLength(1); // the leader's start-up; the followers adopted its license
    const follower = followers[0]!;
    issue(await aLicenseToken(env.key, { tier: 'enterprise' }));
    const before = requestTimes.length;

    const response = await fetch(`${follower.url}/admin/license/refresh`, { method: 'POST', headers: admin });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'refreshed', previous_tier: 'Pro', new_tier: 'Enterprise' });
    expect(requestTimes.length).toBe(before + 1);
    await leader.server.waitForLog(isLine('Refreshing for another fleet member'));
    expect(follower.server.lines.some(isLine('Refreshing for another fleet member'))).toBe(false);

    env.backend.handle(respondJson(503, { error: 'unavailable', message: 'maintenance window' }));
    const failed = await fetch(`${followers[1]!.url}/admin/license/refresh`, { method: 'POST', headers: admin });
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ status: 'failed', new_tier: 'Enterprise', message: expect.stringContaining('fleet lease holder') });
  });

  it("sends the leader's usage counters with the requests it makes for the fleet, never a follower's (DESIGN §12)", async () => {
    const { leader, followers } = await startFleetOnPro(60_000); // no periodic refresh meanwhile
    const follower = followers[0]!;
    expect((await fetch(`${follower.url}/demo/query?rows=5000000`)).status).toBe(402); // over Pro's max_result_rows
    expect((await fetch(`${leader.url}/demo/query?joins=9`)).status).toBe(402); // over Pro's max_joins
    const before = env.backend.tokenRequestBodies().length;

    expect((await fetch(`${follower.url}/admin/license/refresh`, { method: 'POST', headers: admin })).status).toBe(200);

    const sent = env.backend.tokenRequestBodies().slice(before);
    expect(sent).toEqual([
      { instance_id: expect.any(String), version: expect.any(String), usage: expect.objectContaining({ quota_denials: { max_joins: 1 }, feature_denials: {} }) },
    ]);
  });

  it('has a new leader within the lease TTL after SIGKILL of the leader, and loses no refresh', async () => {
    const { leader, followers } = await startFleetOnPro();
    const killedAt = Date.now();
    await leader.server.stop('SIGKILL');
    const takeoverLine = () => followers.flatMap((follower) => follower.server.lines).find(isLine('Fleet role: leader'));
    await waitUntil(() => takeoverLine() !== undefined, 'a follower took the lease over', 3 * LEASE_TTL_MS);
    expect(timeOf(takeoverLine()!) - killedAt).toBeLessThanOrEqual(LEASE_TTL_MS + 500);

    issue(await aLicenseToken(env.key, { tier: 'enterprise' }));
    await Promise.all(followers.map((follower) => follower.server.waitForLog(isLine('License upgraded from Pro to Enterprise'), INTERVAL_MS + 2 * LEASE_TTL_MS)));
    // No gap in the refreshes beyond the interval plus the takeover.
    const gaps = requestTimes.slice(1).map((time, i) => time - requestTimes[i]!);
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(INTERVAL_MS * 1.1 + LEASE_TTL_MS + 500);
    const leaders = (await Promise.all(followers.map(statusOf))).filter((status) => status.fleet.role === 'leader');
    expect(leaders).toHaveLength(1);
  });

  it('starts a new member with no cache directory and a dead backend on the fleet\'s Pro license', async () => {
    await startFleetOnPro();
    env.backend.handle((_request, response) => {
      response.socket?.destroy();
    });
    const before = requestTimes.length;
    const startedAt = Date.now();
    const newcomer = await startMember('new', { SOFTCLIENT4ES_LICENSE_CACHE_DIR: join(env.dir, 'never-created', 'cache') });

    await waitUntil(() => newcomer.server.lines.some(isLine('License upgraded from Community to Pro')), 'the newcomer runs Pro', 5_000);
    expect(Date.now() - startedAt).toBeLessThan(4_000 + 1_000); // within connect + read timeouts (2 s + 2 s)
    const status = await statusOf(newcomer);
    expect(status).toMatchObject({ tier: 'Pro', source: 'api_key', fleet: { role: 'follower', connected: true } });
    expect((await fetch(`${newcomer.url}/readyz`)).status).toBe(200);
    expect(requestTimes.length).toBe(before);
  });
});

describe('a fleet whose Redis stops under load', () => {
  let env: AgentEnvironment;
  let redis: PrivateRedis;
  let servers: ServerProcess[] = [];

  beforeEach(async () => {
    env = await AgentEnvironment.create();
    redis = await PrivateRedis.start();
    servers = [];
  });
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.kill()));
    await redis.stop();
    await env.dispose();
  });

  it('serves every request, goes standalone while Redis is down, and rejoins when it is back', async () => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    const urls: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const { server, url } = await ServerProcess.start(
        env.env({
          SOFTCLIENT4ES_API_KEY: API_KEY,
          SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: `${INTERVAL_MS}ms`,
          SOFTCLIENT4ES_LICENSE_CACHE_DIR: join(env.dir, `cache-${name}`),
          SOFTCLIENT4ES_FLEET_REDIS_URL: redis.url,
          SOFTCLIENT4ES_FLEET_LEASE_TTL: `${LEASE_TTL_MS}ms`,
        }),
      );
      servers.push(server);
      urls.push(url);
      await server.waitForLog(isLine('License upgraded from Community to Pro'));
    }
    const roles = async () => Promise.all(urls.map(async (url) => ((await (await fetch(`${url}/admin/license`, { headers: admin })).json()) as any).fleet));

    let running = true;
    const outcomes = { ok: 0, failed: [] as string[] };
    const load = urls.map(async (url) => {
      while (running) {
        try {
          const response = await fetch(`${url}/demo/query?rows=5000`);
          const body = (await response.json()) as { tier?: string };
          if (response.status === 200 && body.tier === 'Pro') outcomes.ok += 1;
          else outcomes.failed.push(`${response.status} ${JSON.stringify(body)}`);
        } catch (error) {
          outcomes.failed.push(String(error));
        }
      }
    });

    await redis.stop();
    await waitUntil(() => servers.every((server) => server.lines.some((line) => line.msg.startsWith('Fleet store (Redis) unreachable'))), 'every member noticed', 5_000);
    expect((await roles()).map((fleet) => [fleet.connected, fleet.role])).toEqual([
      [false, 'standalone'],
      [false, 'standalone'],
      [false, 'standalone'],
    ]);
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS)); // standalone refreshes go on meanwhile

    await redis.restart();
    await waitUntil(() => servers.every((server) => server.lines.some(isLine('Fleet store (Redis) reachable again: rejoining the fleet'))), 'every member rejoined', 10_000);
    await new Promise((resolve) => setTimeout(resolve, LEASE_TTL_MS));
    const after = await roles();
    expect(after.every((fleet) => fleet.connected)).toBe(true);
    expect(after.filter((fleet) => fleet.role === 'leader')).toHaveLength(1);
    expect(after.filter((fleet) => fleet.role === 'follower')).toHaveLength(2);

    running = false;
    await Promise.all(load);
    expect(outcomes.failed).toEqual([]);
    expect(outcomes.ok).toBeGreaterThan(100);
  });
});
