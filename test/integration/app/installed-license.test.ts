import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import express from 'express';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createLicenseAgent } from '../../../src/app/create-license-agent.js';
import type { LicenseAgent } from '../../../src/app/license-agent.js';
import { ADMIN_TOKEN, AgentEnvironment } from '../../support/agent-environment.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { aLicenseToken } from '../../support/signing-keys.js';

/** The installed license (`PUT /admin/license`) across a start: a real agent, a real cache directory. */
describe('the installed license at start-up', () => {
  let env: AgentEnvironment;
  let agent: LicenseAgent;
  let logger: RecordingLogger;
  beforeEach(async () => {
    env = await AgentEnvironment.create();
    logger = new RecordingLogger();
    mkdirSync(env.cacheDir, { mode: 0o700 });
  });
  afterEach(async () => {
    await agent?.stop();
    await env.dispose();
  });
  const installed = () => join(env.cacheDir, 'static-license.jwt');
  const started = async (overrides: Record<string, string> = {}) => {
    agent = await createLicenseAgent(env.config(overrides), { logger });
    await agent.start();
  };

  it('is in force as a static license, ahead of the API key (no backend call)', async () => {
    writeFileSync(installed(), `${await aLicenseToken(env.key, { tier: 'enterprise' })}\n`, { mode: 0o600 });
    await started({ SOFTCLIENT4ES_API_KEY: 'sk-never-called-0001' });

    expect(agent.current().license).toMatchObject({ tier: 'enterprise', source: 'static' });
    expect(env.backend.requests).toHaveLength(0);
  });

  it('a removal under way when the agent stops is finished on disk, and starts no resolution (no backend call)', async () => {
    writeFileSync(installed(), `${await aLicenseToken(env.key, { tier: 'enterprise' })}\n`, { mode: 0o600 });
    await started({ SOFTCLIENT4ES_API_KEY: 'sk-not-called-after-stop-0001' }); // the installed license wins: no call
    const removing = agent.removeInstalledLicense();

    await agent.stop();

    expect(existsSync(installed())).toBe(false);
    expect(await removing).toMatchObject({ kind: 'removed', outcome: { status: 'skipped' } });
    expect(env.backend.requests).toHaveLength(0); // without stop(), the API-key step would run now
  });

  it('is not used while SOFTCLIENT4ES_LICENSE_KEY is configured, which wins: WARN, the file stays', async () => {
    const jwt = `${await aLicenseToken(env.key, { tier: 'enterprise' })}\n`;
    writeFileSync(installed(), jwt, { mode: 0o600 });
    await started({ SOFTCLIENT4ES_LICENSE_KEY: await aLicenseToken(env.key, { tier: 'pro' }) });

    expect(agent.current().license).toMatchObject({ tier: 'pro', source: 'static' });
    expect(logger.at('warn')).toContain(
      'Installed license (static-license.jwt) not used: SOFTCLIENT4ES_LICENSE_KEY is configured and takes precedence',
    );
    expect(readFileSync(installed(), 'utf8')).toBe(jwt);
  });

  it('that cannot be read (a symbolic link) is a WARN, never a failed start', async () => {
    writeFileSync(join(env.dir, 'elsewhere.jwt'), await aLicenseToken(env.key, { tier: 'enterprise' }));
    symlinkSync(join(env.dir, 'elsewhere.jwt'), installed());
    await started();

    expect(agent.current().license.tier).toBe('community');
    expect(logger.at('warn')).toContainEqual(expect.stringMatching(/^Installed license not read: .*symbolic link/));
  });

  it('that no longer verifies falls through like any static license', async () => {
    const expiredLongAgo = Math.floor(Date.now() / 1000) - 100 * 86_400;
    writeFileSync(installed(), await aLicenseToken(env.key, { issuedAt: expiredLongAgo - 86_400, expiresAt: expiredLongAgo }), { mode: 0o600 });
    await started();

    expect(agent.current().license.tier).toBe('community');
    expect(logger.at('error')).toContainEqual(expect.stringMatching(/^Installed license rejected: license token expired/));
    expect(agent.status().resolution[0]).toMatchObject({ source: 'static', outcome: 'failed', code: 'LICENSE.EXPIRED' });
  });
});

/** `PUT /admin/license` in a host of one's own, which often parses JSON bodies app-wide. */
describe('PUT /admin/license behind a host body parser', () => {
  let env: AgentEnvironment;
  let agent: LicenseAgent;
  let server: Server | undefined;
  beforeEach(async () => {
    env = await AgentEnvironment.create();
  });
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await agent?.stop();
    await env.dispose();
  });

  const hostWith = async (parser: express.RequestHandler) => {
    agent = await createLicenseAgent(env.config(), { logger: new RecordingLogger() });
    await agent.start();
    const app = express();
    app.use(parser); // before the admin router, as many hosts do
    app.use('/admin', agent.adminRouter());
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server?.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/license`;
  };
  const put = (url: string, body: string, type = 'application/json') =>
    // Bounded: a handler that waits for a body someone else has read would never answer.
    fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': type }, body, signal: AbortSignal.timeout(5_000) });

  it('installs a license whose body express.json() has already read', async () => {
    const url = await hostWith(express.json());
    const response = await put(url, JSON.stringify({ jwt: await aLicenseToken(env.key, { tier: 'enterprise' }) }));

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'installed', new_tier: 'Enterprise' });
    expect(agent.current().license).toMatchObject({ tier: 'enterprise', source: 'static' });
  });

  it('reads a body a host parser read as text, under the same rules; answers 400 for what is not {"jwt": "..."}', async () => {
    const url = await hostWith(express.text({ type: '*/*' }));
    const jwt = await aLicenseToken(env.key, { tier: 'pro' });

    expect((await put(url, JSON.stringify({ jwt }), 'text/plain')).status).toBe(200);
    expect(agent.current().license.tier).toBe('pro');
    const refused = await put(url, 'jwt=x', 'text/plain');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('holds what a host parser read to the same 17 KiB limit: 413, also for a chunked body', async () => {
    const url = await hostWith(express.json({ limit: '1mb' }));
    const oversized = JSON.stringify({ jwt: 'x'.repeat(20 * 1024) });
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(oversized));
        controller.close();
      },
    });
    const response = await fetch(url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: chunked,
      duplex: 'half',
      signal: AbortSignal.timeout(5_000),
    } as RequestInit);

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: 'payload_too_large' });
  });
});
