import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Container } from 'inversify';
import { TrustedKeysError } from '../../../src/adapters/jose/trusted-keys.js';
import { loadConfig } from '../../../src/app/config.js';
import { joseVerifierModule } from '../../../src/app/modules/jose-verifier.module.js';
import type { LicenseVerifier } from '../../../src/ports/license-verifier.port.js';
import { TYPES } from '../../../src/ports/types.js';
import { makeFifo } from '../../support/file-system.js';
import { FixedClock } from '../../support/fixed-clock.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { aLicenseToken, generateSigningKey, jwksOf, TEST_ISSUER } from '../../support/signing-keys.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const helmKey = generateSigningKey('helm-key');
const fileKey = generateSigningKey('file-key');
/** The JWK as a Helm chart sets it: one object, no "use" or "alg". */
const helmJwk = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', kid: helmKey.kid, x: helmKey.jwk.x });

let dir: string;
let bundledPath: string;
let logger: RecordingLogger;

beforeEach(() => {
  dir = makeTempDir('jose-module-');
  bundledPath = join(dir, 'bundled.jwks.json');
  writeFileSync(bundledPath, JSON.stringify({ keys: [] }));
  logger = new RecordingLogger();
});

afterEach(() => {
  removeTempDir(dir);
});

/** The verifier the module builds for this environment (with a fixed clock and instance id). */
async function verifierFor(env: Record<string, string>): Promise<LicenseVerifier> {
  const config = loadConfig({ SOFTCLIENT4ES_LICENSE_ISSUER: TEST_ISSUER, SOFTCLIENT4ES_API_KEY: 'sk-test', ...env }, dir);
  const container = new Container();
  container.bind(TYPES.Config).toConstantValue(config);
  container.bind(TYPES.Logger).toConstantValue(logger);
  container.load(joseVerifierModule(bundledPath));
  container.bind(TYPES.Clock).toConstantValue(new FixedClock(NOW));
  container.bind(TYPES.InstanceId).toConstantValue('instance-0001');
  return container.getAsync<LicenseVerifier>(TYPES.LicenseVerifier);
}

async function refusalOf(env: Record<string, string>): Promise<string> {
  try {
    await verifierFor(env);
  } catch (error) {
    if (error instanceof TrustedKeysError) return error.message;
    throw error;
  }
  throw new Error('expected a TrustedKeysError, but the verifier was built');
}

const tokenBy = (key = helmKey) => aLicenseToken(key, {}, NOW.getTime());

describe('joseVerifierModule: the trusted keys', () => {
  it('trusts the one JWK of SOFTCLIENT4ES_LICENSE_PUBLIC_KEY, as a Helm chart sets it', async () => {
    const verifier = await verifierFor({ SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: helmJwk });

    expect((await verifier.verify(await tokenBy(helmKey))).info.kid).toBe(helmKey.kid);
    expect(logger.at('warn')).toEqual([]);
  });

  it('trusts it beside the keys of the SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS file', async () => {
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify(jwksOf(fileKey)));

    const verifier = await verifierFor({ SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: helmJwk, SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS: file });

    expect((await verifier.verify(await tokenBy(helmKey))).info.kid).toBe(helmKey.kid);
    expect((await verifier.verify(await tokenBy(fileKey))).info.kid).toBe(fileKey.kid);
  });

  it('refuses a kid the variable and the file bind to two different keys', async () => {
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify(jwksOf(generateSigningKey(helmKey.kid))));

    expect(await refusalOf({ SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: helmJwk, SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS: file })).toBe(
      'kid "helm-key" names two different keys in the trusted key files',
    );
  });

  it.each([
    ['a small-order point', JSON.stringify({ kty: 'OKP', crv: 'Ed25519', kid: 'next', x: 'A'.repeat(43) }), /^SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: key "next" is not a valid Ed25519 public key/],
    ['not JSON', 'MCowBQYDK2VwAyEA', /^SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: not valid JSON$/],
    ['a JWKS', JSON.stringify(jwksOf(helmKey)), /^SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: expected one JWK object, not a JWK set$/],
  ])('stops start-up on a SOFTCLIENT4ES_LICENSE_PUBLIC_KEY that is %s, naming the variable', async (_case, value, message) => {
    expect(await refusalOf({ SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: value })).toMatch(message);
  });

  it('stops start-up at once on a SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS that is a FIFO, naming the variable and the path', async () => {
    const fifo = join(dir, 'keys.json');
    makeFifo(fifo);

    expect(await refusalOf({ SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS: fifo })).toBe(`SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS (${fifo}): not a regular file (a FIFO)`);
  });

  it('warns, naming both variables, when no key is trusted at all', async () => {
    await verifierFor({});

    expect(logger.at('warn')).toEqual([expect.stringContaining('see SOFTCLIENT4ES_LICENSE_PUBLIC_KEY and SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS')]);
  });
});
