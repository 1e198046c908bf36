import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { runCli } from '../support/cli-process.js';
import { ServerProcess } from '../support/server-process.js';
import { aLicenseToken, generateSigningKey, jwksOf } from '../support/signing-keys.js';
import { waitUntil } from '../support/waiting.js';

const OTHER_HOST = 'f'.repeat(64);
const LEGACY_ID = '0b3d6c1e-2f4a-4b5c-8d9e-0a1b2c3d4e5f';

/** The license lifecycle of the built server, without restarts (DESIGN §6, §8 amended 2026-11-30). */
describe('the built server: runtime install, SIGHUP reload, clone detection', () => {
  let env: AgentEnvironment;
  let server: ServerProcess | undefined;
  beforeEach(async () => {
    env = await AgentEnvironment.create();
  });
  afterEach(async () => {
    await server?.kill();
    server = undefined;
    await env.dispose();
  });

  const start = async (overrides: Record<string, string> = {}, without: string[] = []) => {
    const variables = env.env(overrides);
    for (const name of without) delete variables[name];
    const started = await ServerProcess.start(variables);
    server = started.server;
    return started.url;
  };
  const admin = async (url: string, method: string, body?: unknown, token = ADMIN_TOKEN) => {
    const response = await fetch(`${url}/admin/license`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const status = async (url: string) => (await admin(url, 'GET')).body;
  const installedFile = () => join(env.cacheDir, 'static-license.jwt');
  /** `softclient4es-license status` against the server, as an operator would read it. */
  const cliStatus = async (url: string) => (await runCli(['status', '--url', url], { env: { SOFTCLIENT4ES_ADMIN_TOKEN: ADMIN_TOKEN } })).stdout;

  it('PUT installs a Pro license in force at once; it survives a restart; DELETE goes back to Community', async () => {
    const pro = await aLicenseToken(env.key, { tier: 'pro' });
    let url = await start();
    expect(await status(url)).toMatchObject({ tier: 'Community' });

    const installed = await admin(url, 'PUT', { jwt: pro });
    expect(installed).toEqual({ status: 200, body: expect.objectContaining({ status: 'installed', new_tier: 'Pro' }) });
    expect(await status(url)).toMatchObject({ tier: 'Pro', source: 'static' });
    expect(statSync(installedFile()).mode & 0o777).toBe(0o600);
    // Log lines are written asynchronously (never blocking the event loop): wait for it, bounded.
    await server?.waitForLog((line) => line.audit === 'license_install' && line.result === 'installed');

    expect(await server?.stop('SIGTERM')).toBe(0);
    url = await start();
    await server?.waitForLog((line) => line.msg === 'License upgraded from Community to Pro');
    expect(await status(url)).toMatchObject({ tier: 'Pro', source: 'static' });

    expect(await admin(url, 'DELETE')).toEqual({ status: 200, body: expect.objectContaining({ status: 'removed', new_tier: 'Community' }) });
    expect(await status(url)).toMatchObject({ tier: 'Community', source: 'community', degraded: false }); // removed on purpose: no alert
    expect(existsSync(installedFile())).toBe(false);
    expect(server?.stdout).not.toContain(pro);
  });

  it('PUT refuses a token that does not verify with its code and changes nothing', async () => {
    const url = await start();
    const foreign = await aLicenseToken(generateSigningKey(env.key.kid), { tier: 'enterprise' });
    expect(await admin(url, 'PUT', { jwt: foreign })).toEqual({
      status: 400,
      body: { error: 'license_rejected', code: 'LICENSE.SIGNATURE_INVALID', message: expect.any(String) },
    });
    expect(await status(url)).toMatchObject({ tier: 'Community' });
    expect(existsSync(installedFile())).toBe(false);
  });

  it('SIGHUP reads a changed trusted-keys file, static license file and admin token file: the new license is in force', async () => {
    const newKey = generateSigningKey('rotated-key-2');
    const licenseFile = join(env.dir, 'license.jwt');
    const tokenFile = join(env.dir, 'admin-token.txt');
    writeFileSync(licenseFile, await aLicenseToken(newKey, { tier: 'enterprise' })); // signed by a key not yet trusted
    writeFileSync(tokenFile, ADMIN_TOKEN);
    const url = await start({ SOFTCLIENT4ES_LICENSE_KEY_FILE: licenseFile, SOFTCLIENT4ES_ADMIN_TOKEN_FILE: tokenFile }, ['SOFTCLIENT4ES_ADMIN_TOKEN']);
    await server?.waitForLog((line) => line.msg.startsWith('Static license rejected'));
    expect(await status(url)).toMatchObject({ tier: 'Community', reload: { last_at: null, last_error: null } });

    writeFileSync(join(env.dir, 'trusted-keys.json'), JSON.stringify(jwksOf(env.key, newKey)));
    writeFileSync(tokenFile, 'rotated-admin-token-0123456789abcdef\n');
    server?.signal('SIGHUP');
    await server?.waitForLog((line) => line.msg === 'License upgraded from Community to Enterprise');

    expect((await admin(url, 'GET')).status).toBe(401); // the old admin token no longer opens the API
    const after = (await admin(url, 'GET', undefined, 'rotated-admin-token-0123456789abcdef')).body;
    expect(after).toMatchObject({ tier: 'Enterprise', source: 'static', reload: { last_error: null } });
    expect(after.reload).toMatchObject({ last_at: expect.any(String) });
    expect(server?.stdout).not.toContain('rotated-admin-token-0123456789abcdef');
  });

  it('a SIGHUP that arrives while the server starts does not end it: the reload runs once the agent is up', async () => {
    // Until a listener exists, Node's default action for SIGHUP ends the process: a reloader (or
    // `kill -HUP 1` after a Secret update) that fires while the pod restarts would kill it.
    const keys = join(env.dir, 'trusted-keys.json');
    const starting = ServerProcess.spawn({
      ...env.env(),
      NODE_OPTIONS: `--import=${fileURLToPath(new URL('../support/hold-file-read.mjs', import.meta.url))}`,
      HOLD_FILE_READ: keys,
    });
    server = starting;
    await starting.waitForLog((line) => line.msg === `test: holding the read of ${keys}`); // createLicenseAgent is loading the keys

    starting.signal('SIGHUP');

    await starting.waitForLog((line) => line.msg.startsWith('Listening on '));
    await starting.waitForLog((line) => line.msg.startsWith('Reloaded the license configuration'));
    expect(await starting.stop('SIGTERM')).toBe(0);
  });

  it('SIGHUP with a broken trusted-keys file keeps the previous set and license; the status says why', async () => {
    const licenseFile = join(env.dir, 'license.jwt');
    writeFileSync(licenseFile, await aLicenseToken(env.key, { tier: 'pro' }));
    const url = await start({ SOFTCLIENT4ES_LICENSE_KEY_FILE: licenseFile });
    await server?.waitForLog((line) => line.msg === 'License upgraded from Community to Pro');

    writeFileSync(join(env.dir, 'trusted-keys.json'), '{"keys": [ broken');
    writeFileSync(licenseFile, await aLicenseToken(env.key, { tier: 'enterprise' }));
    server?.signal('SIGHUP');
    const failed = await server!.waitForLog((line) => line.msg.startsWith('Reload failed'));
    expect(failed.level).toBe(50);

    const after = await status(url);
    expect(after).toMatchObject({ tier: 'Pro' });
    expect((after.reload as { last_error: string }).last_error).toContain('SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS');
    expect(await cliStatus(url)).toMatch(/^Last reload +\S+: FAILED, the previous configuration stays in force: SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS /m);
    // still serving, with the old keys: a valid reload afterwards works
    writeFileSync(join(env.dir, 'trusted-keys.json'), JSON.stringify(jwksOf(env.key)));
    server?.signal('SIGHUP');
    await server?.waitForLog((line) => line.msg === 'License upgraded from Pro to Enterprise');
    expect(await status(url)).toMatchObject({ tier: 'Enterprise', reload: { last_error: null } });
  });

  it('a cache directory copied from another host: WARN, status and metric; keep keeps the id, renew mints a new one', async () => {
    mkdirSync(env.cacheDir, { mode: 0o700 });
    const copied = { instance_id: LEGACY_ID, created_at: '2026-01-01T00:00:00.000Z', host_fingerprint: OTHER_HOST };
    writeFileSync(join(env.cacheDir, 'instance.json'), JSON.stringify(copied), { mode: 0o600 });
    let url = await start();
    await server?.waitForLog((line) => line.msg.includes('was made on another host'));
    expect(await status(url)).toMatchObject({ instance_id: LEGACY_ID, instance: { cloned: true } });
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('softclient4es_instance_cloned 1');
    expect(await cliStatus(url)).toMatch(new RegExp(`^Instance id +${LEGACY_ID} \\(CLONED: `, 'm'));
    expect(await server?.stop('SIGTERM')).toBe(0);

    writeFileSync(join(env.cacheDir, 'instance.json'), JSON.stringify(copied), { mode: 0o600 });
    url = await start({ SOFTCLIENT4ES_INSTANCE_ON_CLONE: 'renew' });
    const renewed = await status(url);
    expect(renewed).toMatchObject({ instance: { cloned: true } });
    expect(renewed.instance_id).not.toBe(LEGACY_ID);
    expect(await server?.stop('SIGTERM')).toBe(0);

    url = await start(); // the record now names this host
    expect(await status(url)).toMatchObject({ instance_id: renewed.instance_id, instance: { cloned: false } });
  });

  it("adopts the original product's plain-text instance-id when instance.json is absent, and never writes it", async () => {
    mkdirSync(env.cacheDir, { mode: 0o700 });
    writeFileSync(join(env.cacheDir, 'instance-id'), `${LEGACY_ID.toUpperCase()}\n`, { mode: 0o600 });
    const url = await start();
    expect(await status(url)).toMatchObject({ instance_id: LEGACY_ID, instance: { cloned: false } });
    await waitUntil(() => existsSync(join(env.cacheDir, 'instance.json')), 'instance.json is written');
    expect(JSON.parse(readFileSync(join(env.cacheDir, 'instance.json'), 'utf8'))).toMatchObject({ instance_id: LEGACY_ID });
    expect(readFileSync(join(env.cacheDir, 'instance-id'), 'utf8')).toBe(`${LEGACY_ID.toUpperCase()}\n`);
  });

  it('exits 2 with one clear line on a bad SOFTCLIENT4ES_INSTANCE_ON_CLONE', async () => {
    server = ServerProcess.spawn(env.env({ SOFTCLIENT4ES_INSTANCE_ON_CLONE: 'forget' }));
    expect(await server.exitCode()).toBe(2);
    expect(server.stderr.trim()).toBe('Invalid SOFTCLIENT4ES_INSTANCE_ON_CLONE: expected keep or renew (got "forget")');
  });
});
