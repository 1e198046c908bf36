import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLicenseAgent } from '../../../src/app/create-license-agent.js';
import type { LicenseAgent } from '../../../src/app/license-agent.js';
import { AgentEnvironment } from '../../support/agent-environment.js';
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
