import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeTempDir, removeTempDir } from '../support/temp-dir.js';
import { waitUntil } from '../support/waiting.js';

/**
 * Issue 10: the package as a host installs it. `npm pack` on this checkout, the tarball installed
 * into a fresh host project (Express 5, and Express 4), the README's examples compiled there with
 * `tsc --strict` exactly as printed, then run. Needs the npm registry for the host's own packages.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const run = promisify(execFile);
const INSTALL_TIMEOUT_MS = 240_000;

/** Each `<!-- example: NAME -->` code block of the README, by file name. */
function readmeExamples(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const examples = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- example: ([\w.-]+) -->\n```ts\n([\s\S]*?)```/g)) examples.set(match[1] as string, match[2] as string);
  return examples;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

let tarball: string;
let packDir: string;

beforeAll(async () => {
  packDir = makeTempDir('license-agent-pack-');
  // npm test has just built dist/; --ignore-scripts skips the prepack build.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', packDir, '--json'], { cwd: ROOT });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  tarball = join(packDir, filename);
}, INSTALL_TIMEOUT_MS);

afterAll(() => removeTempDir(packDir));

describe('npm pack', () => {
  it('ships compiled code, declarations, keys, openapi.yaml, deploy/, README and LICENSE; no sources, tests or bench', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n').map((line) => line.replace(/^package\//, ''));
    for (const expected of ['dist/app/index.js', 'dist/app/index.d.ts', 'dist/app/plugins.js', 'dist/app/plugins.d.ts', 'keys/license-signing-keys.jwks.json', 'openapi.yaml', 'README.md', 'LICENSE', 'package.json']) {
      expect(files).toContain(expected);
    }
    expect(files.some((file) => file.startsWith('deploy/'))).toBe(true);
    expect(files.filter((file) => /^(src|test|bench)\//.test(file) || file.endsWith('.map'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
    expect(manifest.peerDependencies).toMatchObject({ express: '^4.21 || ^5' });
    expect(manifest.exports).toMatchObject({ '.': { types: './dist/app/index.d.ts' }, './plugins': { types: './dist/app/plugins.d.ts' }, './package.json': './package.json', './openapi.yaml': './openapi.yaml' });
  });
});

describe.each([
  ['Express 5', 'express@5', '@types/express@5'],
  ['Express 4', 'express@4.21', '@types/express@4'],
])('the installed package in a host on %s', (_name, express, expressTypes) => {
  let host: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    host = makeTempDir('license-agent-host-');
    writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host', version: '1.0.0', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, express, expressTypes, '@types/node@20'], {
      cwd: host,
      timeout: INSTALL_TIMEOUT_MS,
    });
    for (const [name, code] of readmeExamples()) writeFileSync(join(host, name), code);
    writeFileSync(
      join(host, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], skipLibCheck: false },
        include: ['*.ts'],
      }),
    );
  }, INSTALL_TIMEOUT_MS);

  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    removeTempDir(host);
  });

  it('uses the host\'s Express: no second copy is installed', () => {
    expect(existsSync(join(host, 'node_modules/softclient4es-license-agent/node_modules/express'))).toBe(false);
    expect(existsSync(join(host, 'node_modules/express'))).toBe(true);
  });

  it('compiles every README example with tsc --strict, req.license included', async () => {
    expect([...readmeExamples().keys()].sort()).toEqual(['host.ts', 'plugin.ts']);
    const compiled = await run(process.execPath, [TSC, '-p', host], { cwd: host }).then(
      () => 'compiled',
      (error: { stdout: string }) => error.stdout,
    );
    expect(compiled).toBe('compiled');
  });

  it('refuses to compile a wrong value bound to TYPES.TokenBackend', async () => {
    writeFileSync(
      join(host, 'wrong-binding.ts'),
      "import { ContainerModule, TYPES } from 'softclient4es-license-agent/plugins';\n" +
        "export const wrong = new ContainerModule(({ bind }) => { bind(TYPES.TokenBackend).toConstantValue({ notABackend: true }); });\n",
    );
    try {
      const failure = await run(process.execPath, [TSC, '-p', host, '--noEmit'], { cwd: host }).then(
        () => null,
        (error: { stdout: string }) => error.stdout,
      );
      expect(failure).toMatch(/wrong-binding\.ts.*'TokenBackend'/s);
    } finally {
      writeFileSync(join(host, 'wrong-binding.ts'), 'export {};\n');
    }
  });

  it('runs the host example: 200 within the quota, 402 beyond it, usage and capping, /admin/license with the generated token', async () => {
    const cacheDir = join(host, 'cache');
    const port = await freePort();
    const child = spawn(process.execPath, ['host.js'], {
      cwd: host,
      env: { PATH: process.env.PATH ?? '', HOME: host, PORT: String(port), SOFTCLIENT4ES_LICENSE_CACHE_DIR: cacheDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const base = `http://127.0.0.1:${port}`;
    await waitUntil(() => existsSync(join(cacheDir, 'admin-token')), 'the host has started', 20_000);
    const ready = async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200;
    for (let i = 0; i < 200 && !(await ready()); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));

    const query = (joins: number) =>
      fetch(`${base}/queries`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ joins }) });
    const allowed = await query(2);
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ joins: 2, tier: 'community' });
    const denied = await query(3);
    expect(denied.status).toBe(402);
    expect(await denied.json()).toMatchObject({ error: 'quota_exceeded', quota: 'max_joins', limit: 2, requested: 3 });

    const view = (method: 'PUT' | 'DELETE', name: string) => fetch(`${base}/views/${name}`, { method });
    expect((await view('PUT', 'a')).status).toBe(201);
    const full = await view('PUT', 'b'); // Community: 1 materialized view
    expect(full.status).toBe(402);
    expect(await full.json()).toMatchObject({ error: 'quota_exceeded', quota: 'max_materialized_views', current: 1, requested: 1, limit: 1 });
    expect((await view('DELETE', 'a')).status).toBe(204);
    expect((await view('PUT', 'b')).status).toBe(201);
    const search = await fetch(`${base}/search`);
    expect(search.headers.get('x-license-capped')).toBe('max_result_rows=10000');
    expect(await search.json()).toEqual({ rows: 10_000 });
    expect(await (await fetch(`${base}/search?rows=5`)).json()).toEqual({ rows: 5 });

    const token = readFileSync(join(cacheDir, 'admin-token'), 'utf8').trim();
    const status = await fetch(`${base}/admin/license`, { headers: { Authorization: `Bearer ${token}` } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ tier: 'Community', source: 'community', degraded: false });
    expect((await fetch(`${base}/admin/license`)).status).toBe(401);

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 60_000);

  it('runs the example host from the installed package, production dependencies only: node dist/app/main.js', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['node_modules/softclient4es-license-agent/dist/app/main.js'], {
      cwd: host,
      env: { PATH: process.env.PATH ?? '', HOME: host, PORT: String(port), SOFTCLIENT4ES_LICENSE_CACHE_DIR: join(host, 'main-cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const ready = async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200;
    for (let i = 0; i < 200 && !(await ready()); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));

    expect(await ready()).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/demo/query?rows=20000`)).status).toBe(402);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 60_000);

  it('runs the plugin example: the replaced backend is used, and its failure reaches the log at ERROR with its stack', async () => {
    const child = spawn(process.execPath, ['plugin.js'], {
      cwd: host,
      env: { PATH: process.env.PATH ?? '', HOME: host, SOFTCLIENT4ES_API_KEY: 'sk-plugin-example', SOFTCLIENT4ES_LICENSE_CACHE_DIR: join(host, 'plugin-cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = (await once(child, 'exit')) as [number | null];

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const failure = lines.find((line) => line.severity === 'error' && String(line.msg).startsWith('License backend step failed'));
    expect(failure).toBeDefined();
    expect(JSON.stringify(failure)).toMatch(/no license server in this example/);
    expect(JSON.stringify((failure as { err?: { stack?: string } }).err?.stack)).toMatch(/plugin\.js/);
    expect(stdout.trim().split('\n')).toContain('Community'); // console.log is synchronous, the agent's log lines are not
  }, 60_000);
});
