import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RECORD_IMPORTS, runCli } from '../support/cli-process.js';
import { makeTempDir, removeTempDir } from '../support/temp-dir.js';

// Issue 11 §5: importing the package must stay cheap for a host. The cost was the libraries the
// composition root loads (Inversify ≈ 90 ms here, jose, prom-client, pino, node-fetch, @noble/curves);
// these tests pin *what* is loaded, and `npm run bench:start-up` measures how long it takes.
const PACKAGE_MAIN = fileURLToPath(new URL('../../dist/app/index.js', import.meta.url));
const PLUGINS = fileURLToPath(new URL('../../dist/app/plugins.js', import.meta.url));
const LAZY_LIBRARIES = ['inversify', '@inversifyjs', 'jose', 'prom-client', 'pino', 'node-fetch', '@noble', 'lowdb', 'reflect-metadata', 'https-proxy-agent'];

describe('the package entry point', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => removeTempDir(dir));

  /** The npm packages a script running `body` (an ES module) imports, by name. */
  async function packagesImportedBy(body: string): Promise<Set<string>> {
    const script = join(dir, 'host.mjs');
    const recorded = join(dir, 'imports.txt');
    writeFileSync(script, body);
    const result = await runCli([], { env: { RECORD_IMPORTS_FILE: recorded, HOME: dir }, nodeArgs: ['--import', RECORD_IMPORTS], script });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const names = readFileSync(recorded, 'utf8')
      .split('\n')
      .map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1])
      .filter((name): name is string => name !== undefined);
    return new Set(names.map((name) => (name.startsWith('@') ? name.split('/')[0]! : name)));
  }

  it('loads none of the composition root\'s libraries on import, only what the public values need', async () => {
    const loaded = await packagesImportedBy(
      `import { loadConfig, TYPES, LicenseAgent, createLicenseAgent } from ${JSON.stringify(PACKAGE_MAIN)};\n` +
        `if (typeof createLicenseAgent !== 'function' || typeof LicenseAgent !== 'function' || !TYPES.TokenBackend) process.exit(1);\n` +
        `loadConfig({});\n`,
    );
    expect(LAZY_LIBRARIES.filter((name) => loaded.has(name))).toEqual([]);
  });

  it('(control) loads them on the first createLicenseAgent call', async () => {
    const loaded = await packagesImportedBy(
      `import { createLicenseAgent, loadConfig } from ${JSON.stringify(PACKAGE_MAIN)};\n` +
        `const agent = await createLicenseAgent(loadConfig({ SOFTCLIENT4ES_LICENSE_CACHE_DIR: ${JSON.stringify(join(dir, 'cache'))} }), { logger: { debug() {}, info() {}, warn() {}, error() {} } });\n` +
        `await agent.stop();\n`,
    );
    for (const name of ['inversify', 'jose', 'prom-client', 'pino']) expect(loaded).toContain(name);
  });

  it('serves the plugin API from its own subpath, sharing Inversify with the agent', async () => {
    const loaded = await packagesImportedBy(
      `import { ContainerModule, defaultModules, TYPES } from ${JSON.stringify(PLUGINS)};\n` +
        `const modules = defaultModules();\n` +
        `if (!(modules.backend instanceof ContainerModule) || !TYPES.TokenBackend) process.exit(1);\n`,
    );
    expect(loaded).toContain('inversify');
  });

  it('bundles the example host without fleet mode: the Redis client is in a chunk only a fleet loads', () => {
    const app = fileURLToPath(new URL('../../dist/app/', import.meta.url));
    // esbuild marks each bundled file with its path in a comment.
    expect(readFileSync(join(app, 'main.js'), 'utf8')).not.toContain('node_modules/@redis/');
    const chunks = readdirSync(join(app, 'chunks')).map((name) => readFileSync(join(app, 'chunks', name), 'utf8'));
    expect(chunks.some((chunk) => chunk.includes('node_modules/@redis/client/'))).toBe(true);
  });
});
