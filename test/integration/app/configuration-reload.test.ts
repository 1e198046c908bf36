import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLicenseAgent } from '../../../src/app/create-license-agent.js';
import type { LicenseAgent } from '../../../src/app/license-agent.js';
import { AgentEnvironment } from '../../support/agent-environment.js';
import { issueToken } from '../../support/fake-license-backend.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { aLicenseToken, generateSigningKey, jwksOf } from '../../support/signing-keys.js';

const API_KEY = 'sk-first-api-key-0001';
const ROTATED_KEY = 'sk-rotated-api-key-0002';

/** `agent.reload()` (what SIGHUP calls) on a real agent: real files, real keys, a fake backend on loopback. */
describe('LicenseAgent.reload', () => {
  let env: AgentEnvironment;
  let agent: LicenseAgent;
  let logger: RecordingLogger;
  beforeEach(async () => {
    env = await AgentEnvironment.create();
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    await agent?.stop();
    await env.dispose();
  });

  const file = (name: string, content: string) => {
    const path = join(env.dir, name);
    writeFileSync(path, content);
    return path;
  };
  const started = async (overrides: Record<string, string>) => {
    agent = await createLicenseAgent(env.config(overrides), { logger });
    await agent.start();
    return agent;
  };
  const authorizations = () => env.backend.requests.map((request) => request.headers.authorization);
  const everything = () => JSON.stringify(logger.entries) + JSON.stringify(agent.status());

  it('a rotated API key file: the next resolution (run at once) sends the new key', async () => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    const keyFile = file('api-key', API_KEY);
    await started({ SOFTCLIENT4ES_API_KEY_FILE: keyFile });
    writeFileSync(keyFile, `${ROTATED_KEY}\n`);

    const result = await agent.reload();

    expect(result).toMatchObject({ kind: 'reloaded', changed: ['SOFTCLIENT4ES_API_KEY_FILE'], outcome: { status: 'refreshed' } });
    expect(authorizations()).toEqual([`Bearer ${API_KEY}`, `Bearer ${ROTATED_KEY}`]);
    expect(agent.status().reload).toEqual({ last_at: expect.any(String), last_error: null });
    expect(everything()).not.toContain(ROTATED_KEY);
  });

  it.each([
    ['an empty file', '\n', /SOFTCLIENT4ES_API_KEY_FILE \(.*api-key\): the file is empty/],
    ['a malformed key', 'not-an-api-key-secret', /API key is malformed/],
  ])('%s keeps the previous set: ERROR, status reload.last_error, the old key still used', async (_case, content, reason) => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    const keyFile = file('api-key', API_KEY);
    await started({ SOFTCLIENT4ES_API_KEY_FILE: keyFile });
    writeFileSync(keyFile, content);

    const result = await agent.reload();

    expect(result).toEqual({ kind: 'failed', error: expect.stringMatching(reason) });
    expect(logger.at('error')).toEqual([expect.stringMatching(/^Reload failed; the previous configuration stays in force: /)]);
    expect(agent.status().reload.last_error).toMatch(reason);
    await agent.refresh();
    expect(authorizations()).toEqual([`Bearer ${API_KEY}`, `Bearer ${API_KEY}`]);
    expect(everything()).not.toContain('not-an-api-key-secret');
  });

  it('a static license file that does not verify keeps the previous license and keys', async () => {
    const licenseFile = file('license.jwt', await aLicenseToken(env.key, { tier: 'pro' }));
    await started({ SOFTCLIENT4ES_LICENSE_KEY_FILE: licenseFile });
    writeFileSync(licenseFile, await aLicenseToken(generateSigningKey('unknown-kid'), { tier: 'enterprise' }));

    const result = await agent.reload();

    expect(result).toEqual({ kind: 'failed', error: expect.stringContaining('SOFTCLIENT4ES_LICENSE_KEY_FILE') });
    expect(result.kind === 'failed' && result.error).toContain('LICENSE.UNKNOWN_KEY');
    expect(agent.current().license).toMatchObject({ tier: 'pro', source: 'static' });
  });

  it('trusted keys are read again: a key removed from the JWKS file no longer verifies the license in force', async () => {
    const rotated = generateSigningKey('next-key');
    writeFileSync(join(env.dir, 'trusted-keys.json'), JSON.stringify(jwksOf(env.key, rotated)));
    await started({ SOFTCLIENT4ES_LICENSE_KEY: await aLicenseToken(rotated, { tier: 'enterprise' }) });
    expect(agent.current().license.tier).toBe('enterprise');
    writeFileSync(join(env.dir, 'trusted-keys.json'), JSON.stringify(jwksOf(env.key)));

    expect(await agent.reload()).toMatchObject({ kind: 'reloaded', changed: ['trusted keys'] });
    expect(logger.at('info')).toContain('Reloaded the license configuration: trusted keys changed');

    expect(agent.current().license.tier).toBe('community');
    expect(agent.status().resolution[0]).toMatchObject({ source: 'static', outcome: 'failed', code: 'LICENSE.UNKNOWN_KEY' });
  });

  it('an unusable trusted-keys file keeps the previous keys', async () => {
    await started({ SOFTCLIENT4ES_LICENSE_KEY: await aLicenseToken(env.key, { tier: 'pro' }) });
    writeFileSync(join(env.dir, 'trusted-keys.json'), JSON.stringify({ keys: [{ ...env.key.jwk, d: 'private' }] }));

    const result = await agent.reload();

    expect(result).toMatchObject({ kind: 'failed', error: expect.stringMatching(/^SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS .*private key material/) });
    await agent.refresh();
    expect(agent.current().license.tier).toBe('pro');
  });

  it('is refused once the agent shuts down', async () => {
    await started({});
    agent.beginShutdown();
    expect(await agent.reload()).toEqual({ kind: 'failed', error: 'the agent is shutting down' });
  });

  it('reloads one at a time: two at once both finish, in order', async () => {
    await started({});
    const [first, second] = await Promise.all([agent.reload(), agent.reload()]);
    expect([first.kind, second.kind]).toEqual(['reloaded', 'reloaded']);
    expect(logger.at('info').filter((line) => line.startsWith('Reloaded the license configuration'))).toHaveLength(2);
  });
});
