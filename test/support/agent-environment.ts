import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type AgentConfig } from '../../src/app/config.js';
import { FakeLicenseBackend } from './fake-license-backend.js';
import { generateSigningKey, jwksOf, TEST_ISSUER, type SigningKey } from './signing-keys.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/**
 * What a real agent needs around it: a fake backend on a loopback port, a signing key trusted
 * through a JWKS file, and a private cache directory. `env()` is the process environment for it.
 */
export class AgentEnvironment {
  private constructor(
    readonly dir: string,
    readonly key: SigningKey,
    readonly backend: FakeLicenseBackend,
  ) {}

  static async create(): Promise<AgentEnvironment> {
    const dir = makeTempDir();
    const key = generateSigningKey('env-key-1');
    writeFileSync(join(dir, 'trusted-keys.json'), JSON.stringify(jwksOf(key)));
    return new AgentEnvironment(dir, key, await FakeLicenseBackend.start());
  }

  get cacheDir(): string {
    return join(this.dir, 'cache');
  }

  env(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      SOFTCLIENT4ES_LICENSE_URL: this.backend.url,
      SOFTCLIENT4ES_LICENSE_ISSUER: TEST_ISSUER,
      SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS: join(this.dir, 'trusted-keys.json'),
      SOFTCLIENT4ES_LICENSE_CACHE_DIR: this.cacheDir,
      SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT: '2s',
      SOFTCLIENT4ES_LICENSE_READ_TIMEOUT: '2s',
      SOFTCLIENT4ES_ADMIN_TOKEN: ADMIN_TOKEN,
      ...overrides,
    };
  }

  config(overrides: Record<string, string> = {}): AgentConfig {
    return loadConfig(this.env(overrides), this.dir);
  }

  async dispose(): Promise<void> {
    await this.backend.stop();
    removeTempDir(this.dir);
  }
}
