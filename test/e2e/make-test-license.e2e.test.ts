import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../support/cli-process.js';
import { makeTempDir, removeTempDir } from '../support/temp-dir.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/make-test-license.mjs', import.meta.url));

// The README's "Trying a paid tier": the script's license is accepted by the agent that trusts its key.
describe('scripts/make-test-license.mjs', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => removeTempDir(dir));

  it('writes a public JWKS and a license that the agent trusting that JWKS accepts, both 0600', async () => {
    const out = join(dir, 'test-license');
    const made = await runCli(['--tier', 'enterprise', '--days', '7', '--dir', out], { script: SCRIPT, env: { HOME: dir } });
    expect(made).toMatchObject({ code: 0, stderr: '' });
    const jwks = JSON.parse(readFileSync(join(out, 'trusted-keys.json'), 'utf8')) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d'); // public only
    for (const name of ['trusted-keys.json', 'license.jwt']) expect(statSync(join(out, name)).mode & 0o777).toBe(0o600);

    const verdict = await runCli(['verify', '--json', join(out, 'license.jwt')], {
      env: { HOME: dir, SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS: join(out, 'trusted-keys.json'), SOFTCLIENT4ES_LICENSE_CACHE_DIR: join(dir, 'cache') },
    });
    expect(verdict.code).toBe(0);
    expect(JSON.parse(verdict.stdout)).toMatchObject({ accepted: true, license: { tier: 'Enterprise' } });
  });

  it('refuses an unknown tier with its usage, exit 2', async () => {
    const made = await runCli(['--tier', 'gold', '--dir', join(dir, 'x')], { script: SCRIPT, env: { HOME: dir } });
    expect(made.code).toBe(2);
    expect(made.stderr).toMatch(/^usage: node scripts\/make-test-license\.mjs/);
  });
});
