import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createLicenseAgent } from '../../src/app/create-license-agent.js';
import { createHostApp } from '../../src/app/host-server.js';
import { AgentEnvironment } from '../support/agent-environment.js';
import { entriesOf, permissionsOf } from '../support/file-system.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { aLicenseToken } from '../support/signing-keys.js';

/** The uid of `nobody`: "another user" for a test that runs as root. */
const ANOTHER_USER = 65534;
const PLANTED_ID = '0b9e6a52-3f1d-4c7a-8e2b-5d4c3b2a1f00';
const PLANTED_TOKEN = 'Wq3vJ0cZ8mO1rT5yU7iP9aS2dF4gH6jK8lZ0xC1vB3n';
const A_LEFTOVER = 'license-cache.json.3f2a9c4e-1b7d-4e8a-9c6f-0d1e2f3a4b5c.tmp';
const HOUR_S = 3600;

/**
 * DESIGN §8 (amended): the cache directory is used only when it is ours — owned by this user, not
 * writable by group or others. Nothing planted in one that is not is ever read or adopted.
 */
describe('the cache directory, as the agent starts', () => {
  let env: AgentEnvironment;
  let logger: RecordingLogger;
  beforeEach(async () => {
    env = await AgentEnvironment.create();
    logger = new RecordingLogger();
  });
  afterEach(async () => env.dispose());

  /** An agent that generates its admin token into the cache directory (none configured). */
  const startAgent = async () => {
    const agent = await createLicenseAgent(env.config({ SOFTCLIENT4ES_ADMIN_TOKEN: '' }), { logger });
    await agent.start();
    return { agent, app: createHostApp(agent, logger) };
  };
  const file = (name: string) => join(env.cacheDir, name);

  /** What an attacker leaves for the agent: a token they know, an instance id and a license bound to it. */
  async function plantState(): Promise<Record<string, string>> {
    mkdirSync(env.cacheDir, { mode: 0o700 });
    const planted = {
      'admin-token': `${PLANTED_TOKEN}\n`,
      'instance.json': JSON.stringify({ instance_id: PLANTED_ID, created_at: null }),
      'license-cache.json': JSON.stringify({ jwt: await aLicenseToken(env.key, { tier: 'enterprise', instanceId: PLANTED_ID }), saved_at: null }),
    };
    for (const [name, content] of Object.entries(planted)) writeFileSync(file(name), content, { mode: 0o600 });
    return planted;
  }

  function expectUntouched(planted: Record<string, string>, owner: number): void {
    expect(entriesOf(env.cacheDir)).toEqual(Object.keys(planted).sort());
    for (const [name, content] of Object.entries(planted)) {
      expect(readFileSync(file(name), 'utf8')).toBe(content);
      expect(lstatSync(file(name)).uid).toBe(owner);
    }
  }

  async function expectNothingAdopted({ agent, app }: Awaited<ReturnType<typeof startAgent>>): Promise<void> {
    const status = agent.status();
    expect(status.instance_id).not.toBe(PLANTED_ID);
    expect(status).toMatchObject({ tier: 'Community', source: 'community' });
    expect(status.resolution).toContainEqual(expect.objectContaining({ source: 'cache', outcome: 'failed', code: 'CACHE.UNSAFE_DIRECTORY' }));
    await request(app).get('/admin/license').set('Authorization', `Bearer ${PLANTED_TOKEN}`).expect(401);
    await agent.stop(); // the clock's saves at shutdown too
    // Said once where the directory is checked, plus the two consequences an operator must know of;
    // every other store that fails for the same reason says so at DEBUG only.
    expect(logger.at('warn')).toEqual([
      expect.stringMatching(new RegExp(`^Cache directory ${env.cacheDir} is not used: `)),
      expect.stringContaining('Instance id not persisted, using a temporary one'),
      'Admin API call refused: wrong bearer token', // the audit line of the call above
    ]);
    expect(logger.at('error')).toEqual([expect.stringContaining('Admin API disabled')]);
  }

  /** The one WARN that names the directory and why it is not used. */
  const directoryWarnings = () =>
    logger.entries.filter((entry) => entry.level === 'warn' && entry.message.startsWith(`Cache directory ${env.cacheDir} is not used`));

  it('pre-created by another user, with a planted admin-token, instance.json and license: nothing planted is adopted', async () => {
    const planted = await plantState();
    chownSync(env.cacheDir, ANOTHER_USER, ANOTHER_USER);
    for (const name of Object.keys(planted)) chownSync(file(name), ANOTHER_USER, ANOTHER_USER);

    await expectNothingAdopted(await startAgent());

    expectUntouched(planted, ANOTHER_USER);
    expect(directoryWarnings()).toEqual([
      expect.objectContaining({ message: expect.stringContaining('owned by uid 65534'), fields: expect.objectContaining({ path: env.cacheDir }) }),
    ]);
  });

  it('ours but world-writable with the sticky bit (1777): not used, and its mode is left alone', async () => {
    const planted = await plantState();
    chmodSync(env.cacheDir, 0o1777);

    await expectNothingAdopted(await startAgent());

    expectUntouched(planted, process.getuid?.() ?? 0);
    expect(lstatSync(env.cacheDir).mode & 0o7777).toBe(0o1777);
    expect(directoryWarnings()).toEqual([expect.objectContaining({ message: expect.stringContaining('writable by group and others (mode 1777)') })]);
  });

  it('ours and writable by its group (0770): not used', async () => {
    await plantState();
    chmodSync(env.cacheDir, 0o770);

    await expectNothingAdopted(await startAgent());

    expect(permissionsOf(env.cacheDir)).toBe(0o770);
    expect(directoryWarnings()).toEqual([expect.objectContaining({ message: expect.stringContaining('writable by group (mode 0770)') })]);
  });

  it('ours with mode 0755 (others may enter, not write): used as it is, and not re-moded', async () => {
    mkdirSync(env.cacheDir, { mode: 0o755 });
    chmodSync(env.cacheDir, 0o755);

    const { agent } = await startAgent();

    expect(permissionsOf(env.cacheDir)).toBe(0o755);
    expect(JSON.parse(readFileSync(file('instance.json'), 'utf8')).instance_id).toBe(agent.status().instance_id);
    expect(existsSync(file('admin-token'))).toBe(true);
    expect(directoryWarnings()).toEqual([]);
  });

  it('removes a temporary file left by an interrupted write, with a WARN, and nothing else', async () => {
    mkdirSync(env.cacheDir, { mode: 0o700 });
    const recent = 'instance.json.9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a.tmp';
    const others = ['notes.tmp', 'license-cache.json.tmp', `${A_LEFTOVER}.bak`, recent];
    for (const name of [A_LEFTOVER, ...others]) writeFileSync(file(name), 'partial', { mode: 0o600 });
    const anHourAgo = Date.now() / 1000 - HOUR_S;
    for (const name of [A_LEFTOVER, ...others.slice(0, 3)]) utimesSync(file(name), anHourAgo, anHourAgo);

    await startAgent();

    expect(existsSync(file(A_LEFTOVER))).toBe(false);
    for (const name of others) expect(existsSync(file(name))).toBe(true);
    expect(logger.entries).toContainEqual({
      level: 'warn',
      message: expect.stringContaining(`Removed ${file(A_LEFTOVER)}`),
      fields: { path: file(A_LEFTOVER) },
    });
  });

  it('logs (WARN) when it makes a loosened admin-token owner-only again', async () => {
    await startAgent();
    chmodSync(file('admin-token'), 0o644);
    logger.clear();

    await startAgent();

    expect(permissionsOf(file('admin-token'))).toBe(0o600);
    expect(logger.entries).toContainEqual({
      level: 'warn',
      message: `Restored mode 0600 on ${file('admin-token')} (was 0644)`,
      fields: { path: file('admin-token') },
    });
  });

  it('logs (WARN) when it replaces an admin-token that holds no usable token', async () => {
    mkdirSync(env.cacheDir, { mode: 0o700 });
    writeFileSync(file('admin-token'), 'changeme\n', { mode: 0o600 });

    await startAgent();

    expect(readFileSync(file('admin-token'), 'utf8')).not.toBe('changeme\n');
    expect(logger.entries).toContainEqual({
      level: 'warn',
      message: `Replaced ${file('admin-token')}, which held no usable token`,
      fields: { path: file('admin-token') },
    });
  });
});
