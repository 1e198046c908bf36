import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { fileURLToPath } from 'node:url';
import { RECORD_IMPORTS, runCli, type CliResult } from '../support/cli-process.js';
import { issueToken, respondJson } from '../support/fake-license-backend.js';
import { ServerProcess } from '../support/server-process.js';
import { aLicenseToken, generateSigningKey, TEST_ISSUER, type TokenOptions } from '../support/signing-keys.js';
import { closedLoopbackPort, SilentTcpServer } from '../support/silent-tcp-server.js';
import { makeTempDir, removeTempDir } from '../support/temp-dir.js';

const API_KEY = 'sk-e2e-cli-secret-key';
const DAY = 86_400;
/** The composition root (`dist/app/create-license-agent.js`) and everything it loads. */
const COMPOSITION_ROOT = fileURLToPath(new URL('../../dist/app/create-license-agent.js', import.meta.url));
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** Packages `verify` must never load (the issue: "must not load Express, Inversify or the metrics at all"). */
const HEAVY_PACKAGES = /\/node_modules\/(express|inversify|@inversifyjs|prom-client|pino|pino-http|reflect-metadata|node-fetch)\//;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const fingerprintOf = (jwt: string) => createHash('sha256').update(jwt).digest('hex').slice(0, 16);

describe('softclient4es-license, the built CLI', () => {
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

  /** The CLI with the agent's environment (trusted keys, issuer, cache dir, admin token) and `overrides`. */
  const cli = (args: readonly string[], overrides: Record<string, string> = {}, input?: string) =>
    runCli(args, { env: env.env(overrides), ...(input === undefined ? {} : { input }) });
  const token = (options: TokenOptions = {}) => aLicenseToken(env.key, options);
  const tokenFile = (jwt: string, name = 'license.jwt') => {
    const path = join(env.dir, name);
    writeFileSync(path, `${jwt}\n`);
    return path;
  };
  /** A cache directory holding `instance.json` as the agent writes it. */
  const installInstanceId = (id: string) => {
    mkdirSync(env.cacheDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(env.cacheDir, 'instance.json'), JSON.stringify({ instance_id: id, created_at: new Date().toISOString() }), { mode: 0o600 });
  };
  const json = (result: CliResult) => JSON.parse(result.stdout) as Record<string, unknown>;

  /** The built server with `overrides`, once its initial resolution has finished. */
  const startServer = async (overrides: Record<string, string> = {}) => {
    const started = await ServerProcess.start(env.env(overrides));
    server = started.server;
    const deadline = Date.now() + 10_000;
    while ((await fetch(`${started.url}/readyz`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('the server did not become ready');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return started.url;
  };

  describe('usage', () => {
    it('--help lists the commands, the options and the exit codes, and exits 0', async () => {
      const result = await runCli(['--help']);
      expect(result.code).toBe(0);
      for (const text of ['status [--url URL]', 'refresh [--url URL]', 'verify <jwt | file | ->', 'instance-id', '--json', '--token-file', '--version', 'Exit codes:']) {
        expect(result.stdout).toContain(text);
      }
      expect(result.stdout).toMatch(/^ {2}3 {2}the agent could not be reached/m);
    });

    it('<command> --help explains one command and exits 0', async () => {
      const result = await runCli(['verify', '--help']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^Usage: softclient4es-license verify <jwt \| file \| ->/);
      expect(result.stdout).toContain('Exit: 0 this agent would accept the license now; 1 rejected');
    });

    it('--version prints the package version, --version --json as JSON', async () => {
      expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `softclient4es-license ${PACKAGE_VERSION}\n` });
      expect(JSON.parse((await runCli(['--version', '--json'])).stdout)).toEqual({ version: PACKAGE_VERSION });
    });

    it.each([
      [[], 'No command given'],
      [['show'], "Unknown command 'show'"],
      [['status', '--bogus'], "Unknown option '--bogus'"],
      [['verify', '--url', 'http://127.0.0.1:1', 'x'], "Option '--url' does not apply to 'verify'"],
      [['verify'], 'verify needs a token, a file or -'],
      [['instance-id', 'extra'], "'instance-id' takes no argument"],
      [['status', '--url', 'ftp://example.com'], 'Invalid --url'],
      [['status', '--timeout', 'forever'], 'Invalid --timeout'],
    ])('exits 2 on a bad command line: %j', async (args, message) => {
      const result = await cli(args);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain('--help');
    });

    it('exits 2 with one line per bad variable, as the agent does', async () => {
      const result = await cli(['instance-id'], { SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: 'forever', SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: 'soon' });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^softclient4es-license: Invalid SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: .*\nInvalid SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: /);
    });
  });

  describe('verify (offline)', () => {
    it('accepts a valid license from a file: exit 0, the license as the agent would use it, never the token', async () => {
      const jwt = await token({ tier: 'enterprise', orgName: 'Air-Gapped Corp', jti: 'jti-42', quotas: { max_joins: 12 } });
      const result = await cli(['verify', tokenFile(jwt)]);

      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/^Verdict +ACCEPTED: this agent would use this license now/);
      expect(result.stdout).toMatch(new RegExp(`^Fingerprint +${fingerprintOf(jwt)}$`, 'm'));
      expect(result.stdout).toMatch(/^Key id \(kid\) +env-key-1$/m);
      expect(result.stdout).toMatch(/^Tier +Enterprise$/m);
      expect(result.stdout).toMatch(/^Organization +Air-Gapped Corp$/m);
      expect(result.stdout).toMatch(/^ +max_result_rows +unlimited$/m);
      expect(result.stdout).toMatch(/^ +max_joins +12$/m);
      expect(result.stdout).toMatch(/^Grace +none$/m);
      expect(result.stdout).toMatch(/^Days remaining +36[45]$/m);
      expect(result.stdout).toMatch(/^Claims +iss +https:\/\/license\.test\.example$/m);
      expect(result.stdout).toMatch(/^ +jti +jti-42$/m);
      expect(result.stdout).not.toContain(jwt);
      expect(result.stdout).not.toContain(jwt.split('.')[2]);
    });

    it('reads the token from standard input with -, and from the command line', async () => {
      const jwt = await token();
      const fromStdin = await cli(['verify', '-'], {}, `${jwt}\n`);
      const fromArgument = await cli(['verify', jwt]);
      for (const result of [fromStdin, fromArgument]) {
        expect(result.code).toBe(0);
        expect(result.stdout).toContain(`Fingerprint     ${fingerprintOf(jwt)}`);
      }
    });

    it('reads the agent\'s own license-cache.json', async () => {
      const jwt = await token();
      const path = join(env.dir, 'license-cache.json');
      writeFileSync(path, JSON.stringify({ jwt, saved_at: new Date().toISOString() }));
      expect((await cli(['verify', path])).code).toBe(0);
    });

    it('--json prints the verdict: accepted, fingerprint, header, claims and the license as GET /admin/license words it', async () => {
      const jwt = await token({ tier: 'pro', trial: true, claims: { grace_period_days: 3 } });
      const result = await cli(['verify', '--json', tokenFile(jwt)]);
      expect(result.code).toBe(0);
      const verdict = json(result);
      expect(verdict).toMatchObject({
        accepted: true,
        code: null,
        message: null,
        fingerprint: fingerprintOf(jwt),
        clock: { suspect: false },
        instance_id: null,
        header: { alg: 'EdDSA', kid: 'env-key-1', typ: 'JWT' },
        claims: { iss: TEST_ISSUER, sub: 'lic-test-0001', tier: 'pro', trial: true, grace_period_days: 3 },
        license: {
          tier: 'Pro',
          trial: true,
          source: 'static',
          grace_period_days: 3,
          grace: { status: 'none', days_expired: null, days_remaining: null },
          quotas: { max_result_rows: 1_000_000 },
          token: { kid: 'env-key-1', fingerprint: fingerprintOf(jwt) },
        },
        warnings: [],
      });
      expect(Math.abs(Date.parse(verdict.judged_at as string) - Date.now())).toBeLessThan(60_000);
    });

    it('judges grace as the agent would now: a license expired 2 days ago is in early grace, exit 0', async () => {
      const jwt = await token({ issuedAt: nowSeconds() - 30 * DAY, expiresAt: nowSeconds() - 2 * DAY - 60 });
      const result = await cli(['verify', tokenFile(jwt)]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Grace +early grace: expired 2 days ago, 12 days left$/m);
      expect(result.stdout).toMatch(/^Days remaining +0$/m);
    });

    it('honours the operator\'s grace period: the same license is rejected with a 1-day grace, exit 1', async () => {
      const jwt = await token({ issuedAt: nowSeconds() - 30 * DAY, expiresAt: nowSeconds() - 2 * DAY });
      const result = await cli(['verify', '--json', tokenFile(jwt)], { SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: '1d' });
      expect(result.code).toBe(1);
      expect(json(result)).toMatchObject({ accepted: false, code: 'LICENSE.EXPIRED', license: null });
    });

    it.each<[string, () => Promise<string>, string, Record<string, string>]>([
      ['expired past grace', () => aLicenseToken(env.key, { issuedAt: nowSeconds() - 60 * DAY, expiresAt: nowSeconds() - 20 * DAY }), 'LICENSE.EXPIRED', {}],
      ['signed by a key that is not trusted', () => aLicenseToken(generateSigningKey('env-key-1')), 'LICENSE.SIGNATURE_INVALID', {}],
      ['naming an unknown kid', () => aLicenseToken(generateSigningKey('stranger')), 'LICENSE.UNKNOWN_KEY', {}],
      ['from another issuer', () => aLicenseToken(env.key, { issuer: 'https://elsewhere.example' }), 'LICENSE.ISSUER_MISMATCH', {}],
      ['not yet valid', () => aLicenseToken(env.key, { notBefore: nowSeconds() + DAY }), 'LICENSE.NOT_YET_VALID', {}],
      ['with an HMAC algorithm', async () => `${Buffer.from('{"alg":"HS256","kid":"env-key-1"}').toString('base64url')}.e30.c2ln`, 'LICENSE.ALGORITHM_REJECTED', {}],
      ['not a JWT at all', async () => 'eyJhbGciOiJFZERTQSJ9.not a token', 'LICENSE.MALFORMED', {}],
      ['trusted only through a variable that is not set', () => aLicenseToken(env.key), 'LICENSE.UNKNOWN_KEY', { SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS: '' }],
    ])('rejects a license %s: exit 1 with the exact rejection code', async (_what, make, code, overrides) => {
      const jwt = await make();
      const human = await cli(['verify', tokenFile(jwt)], overrides);
      expect(human.code).toBe(1);
      expect(human.stdout).toMatch(new RegExp(`^Verdict +REJECTED: ${code.replace('.', '\\.')}: `));
      expect(human.stdout).not.toContain(jwt);
      const verdict = await cli(['verify', '--json', tokenFile(jwt)], overrides);
      expect(verdict.code).toBe(1);
      expect(json(verdict)).toMatchObject({ accepted: false, code, license: null, fingerprint: fingerprintOf(jwt) });
    });

    it('shows what a rejected token claims, marked unverified and through the text gate', async () => {
      const jwt = await aLicenseToken(generateSigningKey('env-key-1'), { orgName: 'Evil\u001b[31m Corp\u202e', claims: { note: 'Bearer abcdefghijklmnop' } });
      const result = await cli(['verify', tokenFile(jwt)]);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^Claims \(unverified\) +iss +https:\/\/license\.test\.example$/m);
      expect(result.stdout).toMatch(/^ +org_name +Evil \[31m Corp$/m);
      expect(result.stdout).toMatch(/^ +note +Bearer \[REDACTED\]$/m);
      expect(result.stdout).not.toMatch(/[\u001b\u202e]/);
    });

    it('judges instance binding with this installation\'s id, read from instance.json without creating one', async () => {
      const instanceId = randomUUID();
      const bound = await token({ instanceId });

      const noInstanceYet = await cli(['verify', '--json', tokenFile(bound)]);
      expect(noInstanceYet.code).toBe(1);
      expect(json(noInstanceYet)).toMatchObject({ code: 'LICENSE.INSTANCE_MISMATCH', instance_id: null });
      expect(existsSync(env.cacheDir)).toBe(false);

      installInstanceId(instanceId);
      const ours = await cli(['verify', '--json', tokenFile(bound)]);
      expect(ours.code).toBe(0);
      expect(json(ours)).toMatchObject({ accepted: true, instance_id: instanceId });

      const other = await cli(['verify', tokenFile(await token({ instanceId: randomUUID() }))]);
      expect(other.code).toBe(1);
      expect(other.stdout).toMatch(/^Verdict +REJECTED: LICENSE\.INSTANCE_MISMATCH: license token is bound to another instance$/m);
      expect(readdirSync(env.cacheDir)).toEqual(['instance.json']);
    });

    it('gives the same verdict as the running agent, with the same code and message', async () => {
      const foreign = await token({ instanceId: randomUUID() });
      const url = await startServer({ SOFTCLIENT4ES_LICENSE_KEY: foreign });
      const status = json(await cli(['status', '--json', '--url', url]));
      const agentSays = (status.resolution as Record<string, unknown>[])[0];
      expect(agentSays).toMatchObject({ source: 'static', outcome: 'failed', code: 'LICENSE.INSTANCE_MISMATCH' });

      const cliSays = json(await cli(['verify', '--json', tokenFile(foreign)]));
      expect({ code: cliSays.code, message: cliSays.message }).toEqual({ code: agentSays?.code, message: agentSays?.message });
      expect(cliSays.instance_id).toBe(status.instance_id);

      const ours = await token({ instanceId: status.instance_id as string });
      expect((await cli(['verify', tokenFile(ours)])).code).toBe(0);
    });

    it('judges time by the clock the agent trusts: with the system clock behind clock.json, by the high-water mark', async () => {
      const jwt = await token({ issuedAt: nowSeconds() - 30 * DAY, expiresAt: nowSeconds() + 5 * DAY });
      mkdirSync(env.cacheDir, { recursive: true, mode: 0o700 });
      const mark = { high_water_at: new Date(Date.now() + 30 * DAY * 1000).toISOString(), newest_backend_iat: null };
      writeFileSync(join(env.cacheDir, 'clock.json'), JSON.stringify(mark), { mode: 0o600 });
      const before = statSync(join(env.cacheDir, 'clock.json')).mtimeMs;

      const result = await cli(['verify', '--json', tokenFile(jwt)]);
      expect(result.code).toBe(1);
      expect(json(result)).toMatchObject({ code: 'LICENSE.EXPIRED', clock: { suspect: true } });
      expect(json(result).warnings).toEqual([expect.stringContaining('System clock runs behind the time already seen')]);
      expect(statSync(join(env.cacheDir, 'clock.json')).mtimeMs).toBe(before);
      expect(readdirSync(env.cacheDir)).toEqual(['clock.json']);
    });

    it('says when a license would be refused as a backend or cached one (older than one already accepted), but accepts it as static', async () => {
      const old = await token({ issuedAt: nowSeconds() - 10 * DAY });
      mkdirSync(env.cacheDir, { recursive: true, mode: 0o700 });
      const mark = { high_water_at: new Date().toISOString(), newest_backend_iat: new Date(Date.now() - DAY * 1000).toISOString() };
      writeFileSync(join(env.cacheDir, 'clock.json'), JSON.stringify(mark), { mode: 0o600 });
      const result = await cli(['verify', tokenFile(old)]);
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/^warning: As a backend-issued or cached license it would be refused \(LICENSE\.SUPERSEDED\): /m);
    });

    it.each<[string, () => [string, string?], string]>([
      ['a file that does not exist', () => [join(env.dir, 'missing.jwt')], 'cannot be read (ENOENT)'],
      ['a directory', () => [env.dir], 'not a regular file (a directory)'],
      ['empty standard input', () => ['-', ''], 'No license token in standard input'],
      ['standard input over 64 KiB', () => ['-', 'e'.repeat(70 * 1024)], 'standard input is larger than 65536 bytes'],
    ])('exits 2 on %s', async (_what, make, message) => {
      const [operand, input] = make();
      const result = await cli(['verify', operand], {}, input);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(message);
    });

    it('exits 2 when the trusted keys cannot be used, naming the variable', async () => {
      const result = await cli(['verify', tokenFile(await token())], { SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: '{"kty":"OKP"' });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe('softclient4es-license: Invalid trusted license keys: SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: not valid JSON\n');
    });

    it('trusts the one key in SOFTCLIENT4ES_LICENSE_PUBLIC_KEY, as the agent does', async () => {
      const helmKey = generateSigningKey('helm-key');
      const jwt = await aLicenseToken(helmKey);
      const result = await cli(['verify', tokenFile(jwt)], { SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: JSON.stringify(helmKey.jwk) });
      expect(result.code).toBe(0);
    });

    it('loads neither Express, Inversify, pino nor the metrics', async () => {
      const recorded = join(env.dir, 'imports.txt');
      const result = await runCli(['verify', tokenFile(await token())], {
        env: { ...env.env(), RECORD_IMPORTS_FILE: recorded },
        nodeArgs: ['--import', RECORD_IMPORTS],
      });
      expect(result.code).toBe(0);
      const urls = readFileSync(recorded, 'utf8').trim().split('\n');
      expect(urls.some((url) => url.includes('/node_modules/jose/'))).toBe(true); // the hook sees packages
      expect(urls.filter((url) => HEAVY_PACKAGES.test(url))).toEqual([]);
      expect(urls.filter((url) => /\/dist\/app\/(create-license-agent|host-server|license-agent|index)\.js$/.test(url))).toEqual([]);
    });

    it('(control) the import recorder does see Express, Inversify and prom-client when the composition root is loaded', async () => {
      const recorded = join(env.dir, 'imports.txt');
      const result = await runCli([], { env: { RECORD_IMPORTS_FILE: recorded }, nodeArgs: ['--import', RECORD_IMPORTS], script: COMPOSITION_ROOT });
      expect(result.code).toBe(0);
      const urls = readFileSync(recorded, 'utf8');
      for (const name of ['express', 'inversify', 'prom-client']) expect(urls).toContain(`/node_modules/${name}/`);
    });
  });

  describe('status', () => {
    it('prints the license in force as a table: tier, source, org, quotas, expiry, grace, refresh, resolution', async () => {
      const jwt = await token({ tier: 'enterprise', orgName: 'Status Org', platform: 'STAGING' });
      const url = await startServer({ SOFTCLIENT4ES_LICENSE_KEY: jwt });
      const result = await cli(['status', '--url', url]);

      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^Tier +Enterprise$/m);
      expect(result.stdout).toMatch(/^Source +static$/m);
      expect(result.stdout).toMatch(/^Organization +Status Org$/m);
      expect(result.stdout).toMatch(/^Platform +STAGING$/m);
      expect(result.stdout).toMatch(/^Quotas +max_materialized_views +unlimited$/m);
      expect(result.stdout).toMatch(/^Expires +\d{4}-\d\d-\d\dT/m);
      expect(result.stdout).toMatch(/^Grace +none$/m);
      expect(result.stdout).toMatch(new RegExp(`^Token +kid env-key-1, fingerprint ${fingerprintOf(jwt)}$`, 'm'));
      expect(result.stdout).toMatch(/^Clock +ok$/m);
      expect(result.stdout).toMatch(/^Enforcement +enforce$/m);
      expect(result.stdout).toMatch(/^Usage +max_materialized_views +0 of unlimited$/m);
      expect(result.stdout).toMatch(/^Next refresh +none \(periodic refresh is off/m);
      expect(result.stdout).toMatch(/^Resolution +static +used$/m);
      expect(result.stdout).toMatch(/^Last reload +never$/m);
      expect(result.stdout).toMatch(/^Instance id +[0-9a-f-]{36}$/m);
      expect(result.stdout).not.toContain(ADMIN_TOKEN);
      expect(result.stdout).not.toContain(jwt);
    });

    it('--json prints GET /admin/license as the agent answered it', async () => {
      const url = await startServer({ SOFTCLIENT4ES_LICENSE_KEY: await token() });
      const result = await cli(['status', '--json', '--url', url]);
      expect(result.code).toBe(0);
      const direct = (await (await fetch(`${url}/admin/license`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as Record<string, unknown>;
      const fromCli = json(result);
      expect(Object.keys(fromCli)).toEqual(Object.keys(direct));
      expect({ ...fromCli, clock: null, days_remaining: null }).toEqual({ ...direct, clock: null, days_remaining: null });
    });

    it('says why each source failed, and that a paid license was lost (degraded)', async () => {
      // Minted when the agent asks (a slow start must not receive it already expired): Pro for 5 s, no grace.
      env.backend.handle(issueToken(() => token({ tier: 'pro', expiresAt: nowSeconds() + 5 })));
      const url = await startServer({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: '0s', SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: 'false' });
      expect(json(await cli(['status', '--json', '--url', url]))).toMatchObject({ tier: 'Pro', source: 'api_key' });
      const degraded = async () => json(await cli(['status', '--json', '--url', url])).degraded === true;
      const deadline = Date.now() + 10_000;
      while (!(await degraded())) {
        if (Date.now() > deadline) throw new Error('the license did not lapse');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      env.backend.handle(respondJson(401, { error: 'api_key_revoked', message: 'This API key was revoked on 2026-11-01' }));
      expect((await cli(['refresh', '--url', url])).code).toBe(1);

      const result = await cli(['status', '--url', url]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Tier +Community \(DEGRADED: a paid license was lost\)$/m);
      expect(result.stdout).toMatch(/^Source +community$/m);
      expect(result.stdout).toMatch(/^Expires +never$/m);
      expect(result.stdout).toMatch(/^Last refresh +\S+ failed: /m);
      expect(result.stdout).toMatch(/^Resolution +static +skipped +no static license configured$/m);
      expect(result.stdout).toMatch(/^ +api_key +failed +BACKEND\.REJECTED: This API key was revoked on 2026-11-01$/m);
      expect(result.stdout).toMatch(/^ +cache +failed +LICENSE\.EXPIRED: /m);
      expect(result.stdout).toMatch(/^ +community +used$/m);
      expect(result.stdout).not.toContain(API_KEY);
    });

    it('finds the agent from HOST and PORT, and the generated admin token in <cache dir>/admin-token', async () => {
      const url = await startServer({ SOFTCLIENT4ES_ADMIN_TOKEN: '' });
      const port = new URL(url).port;
      const result = await cli(['status'], { SOFTCLIENT4ES_ADMIN_TOKEN: '', HOST: '0.0.0.0', PORT: port });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^Tier +Community$/m);
      expect(result.stdout).not.toContain(readFileSync(join(env.cacheDir, 'admin-token'), 'utf8').trim());
    });

    it('reads the admin token from --token-file; exits 2 without printing it when the agent refuses it (401)', async () => {
      const url = await startServer();
      const good = join(env.dir, 'admin-token.txt');
      writeFileSync(good, `${ADMIN_TOKEN}\n`);
      expect((await cli(['status', '--url', url, '--token-file', good], { SOFTCLIENT4ES_ADMIN_TOKEN: 'overridden-by-the-file' })).code).toBe(0);

      const wrongToken = 'not-the-admin-token-at-all';
      const wrong = join(env.dir, 'wrong-token.txt');
      writeFileSync(wrong, wrongToken);
      const refused = await cli(['status', '--url', url, '--token-file', wrong]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(`softclient4es-license: The agent at ${url} refused the admin token from --token-file ${wrong} (HTTP 401)\n`);
      expect(refused.stdout + refused.stderr).not.toContain(wrongToken);
    });

    it('exits 2 when there is no admin token anywhere', async () => {
      const result = await cli(['status', '--url', 'http://127.0.0.1:1'], { SOFTCLIENT4ES_ADMIN_TOKEN: '' });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('No admin token: set SOFTCLIENT4ES_ADMIN_TOKEN or pass --token-file');
      expect(existsSync(env.cacheDir)).toBe(false);
    });

    it('exits 3 when the agent is unreachable: connection refused', async () => {
      const port = await closedLoopbackPort();
      const result = await cli(['status', '--url', `http://127.0.0.1:${port}`]);
      expect(result).toMatchObject({ code: 3, stdout: '' });
      expect(result.stderr).toBe(`softclient4es-license: Cannot reach the agent at http://127.0.0.1:${port}: ECONNREFUSED\n`);
    });

    it('exits 3 when the agent does not answer within --timeout', async () => {
      const silent = await SilentTcpServer.start();
      try {
        const result = await cli(['status', '--url', `http://127.0.0.1:${silent.port}`, '--timeout', '300ms']);
        expect(result.code).toBe(3);
        expect(result.stderr).toContain('no answer within 300ms');
        expect(result.ms).toBeLessThan(5_000);
      } finally {
        await silent.stop();
      }
    });

    it('exits 1 when what answers is not an agent', async () => {
      const url = await startServer();
      const result = await cli(['status', '--url', `${url}/demo/`]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Unexpected answer from the agent to GET /admin/license: HTTP 404');
    });
  });

  describe('refresh', () => {
    it('prints previous → new tier and the message, exit 0', async () => {
      env.backend.handle(issueToken(await token({ tier: 'pro' })));
      const url = await startServer({ SOFTCLIENT4ES_API_KEY: API_KEY });
      env.backend.handle(issueToken(await token({ tier: 'enterprise' })));

      const result = await cli(['refresh', '--url', url]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^Status +refreshed$/m);
      expect(result.stdout).toMatch(/^Tier +Pro → Enterprise$/m);
      expect(result.stdout).toMatch(/^Message +Enterprise license in force \(source: api_key\)$/m);
    });

    it('exits 1 on 502, showing the license still in force and the backend\'s reason; --json prints the body', async () => {
      env.backend.handle(issueToken(await token({ tier: 'pro' })));
      const url = await startServer({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s' });
      env.backend.handle(respondJson(503, { error: 'maintenance' }));

      const result = await cli(['refresh', '--url', url]);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^Status +failed$/m);
      expect(result.stdout).toMatch(/^Tier +Pro → Pro$/m);
      expect(result.stdout).toMatch(/^Message +.*503/m);

      const asJson = await cli(['refresh', '--json', '--url', url]);
      expect(asJson.code).toBe(1);
      expect(json(asJson)).toMatchObject({ status: 'failed', previous_tier: 'Pro', new_tier: 'Pro' });
    });

    it('exits 1 on 409 when no API key is configured', async () => {
      const url = await startServer();
      const result = await cli(['refresh', '--url', url]);
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toBe(
        'softclient4es-license: Refresh not run: HTTP 409: no_api_key: no API key is configured (SOFTCLIENT4ES_API_KEY): there is nothing to refresh\n',
      );
    });

    it('exits 1 on 429 when asked again too soon, with the time to wait', async () => {
      env.backend.handle(issueToken(await token({ tier: 'pro' })));
      const url = await startServer({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '1h' });
      expect((await cli(['refresh', '--url', url])).code).toBe(0);
      const result = await cli(['refresh', '--url', url]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^softclient4es-license: Refresh not run: HTTP 429: refresh_too_soon: .*retry in \d+ s\n$/);
    });

    it('exits 3 when the agent is unreachable', async () => {
      const result = await cli(['refresh', '--url', `http://127.0.0.1:${await closedLoopbackPort()}`]);
      expect(result.code).toBe(3);
    });
  });

  describe('instance-id', () => {
    it('exits 1 when there is none yet, and creates none', async () => {
      const result = await cli(['instance-id']);
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toBe(
        `softclient4es-license: No instance id yet: ${join(env.cacheDir, 'instance.json')} does not exist; the agent creates it when it starts\n`,
      );
      expect(existsSync(env.cacheDir)).toBe(false);
      const asJson = await cli(['instance-id', '--json']);
      expect(asJson.code).toBe(1);
      expect(json(asJson)).toEqual({ instance_id: null, path: join(env.cacheDir, 'instance.json') });
    });

    it('prints the id the running agent reports', async () => {
      const url = await startServer();
      const status = json(await cli(['status', '--json', '--url', url]));
      expect(await cli(['instance-id'])).toMatchObject({ code: 0, stdout: `${status.instance_id as string}\n`, stderr: '' });
      expect(json(await cli(['instance-id', '--json']))).toEqual({ instance_id: status.instance_id, path: join(env.cacheDir, 'instance.json') });
    });

    it('exits 1 on an id file the agent would not trust, and leaves it where it is', async () => {
      installInstanceId('not-a-uuid');
      const result = await cli(['instance-id']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('No usable instance id: ');
      expect(result.stderr).toContain('"instance_id" must be a lowercase UUID');
      expect(readdirSync(env.cacheDir)).toEqual(['instance.json']);
    });

    it('does not read a cache directory that others can write to', async () => {
      installInstanceId(randomUUID());
      chmodSync(env.cacheDir, 0o777);
      const result = await cli(['instance-id']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/No usable instance id: cache directory .* is not used: writable by group and others \(mode 0777\)/);
      chmodSync(env.cacheDir, 0o700);
    });
  });

  describe('the README examples', () => {
    /** The command lines of the README's "Command line" section, as [args, stdin file]. */
    const readmeExamples = (): [string[], string | undefined][] => {
      const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
      const section = readme.slice(readme.indexOf('\n## Command line'));
      const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
      return block
        .split('\n')
        .map((line) => line.replace(/\s+#.*$/, '').trim())
        .filter((line) => line.startsWith('softclient4es-license '))
        .map((line) => {
          const [command, stdin] = line.split(' < ');
          return [(command ?? '').split(/\s+/).slice(1), stdin];
        });
    };

    it('runs every example against a running agent, and each exits 0', async () => {
      const examples = readmeExamples();
      expect(examples.length).toBeGreaterThanOrEqual(6);
      env.backend.handle(issueToken(await token({ tier: 'pro' })));
      const url = await startServer({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s' });
      const cwd = makeTempDir();
      try {
        const jwt = await token({ tier: 'enterprise' });
        writeFileSync(join(cwd, 'license.jwt'), `${jwt}\n`);
        for (const [args, stdinFile] of examples) {
          const input = stdinFile === undefined ? undefined : readFileSync(join(cwd, stdinFile), 'utf8');
          const result = await runCli(args, { env: env.env({ PORT: new URL(url).port }), cwd, ...(input === undefined ? {} : { input }) });
          expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: '' });
        }
      } finally {
        removeTempDir(cwd);
      }
    });
  });

  it('leaves no file behind in a cache directory it only reads', async () => {
    const url = await startServer();
    await server?.stop();
    server = undefined;
    const before = readdirSync(env.cacheDir).sort();
    const stamps = before.map((name) => statSync(join(env.cacheDir, name)).mtimeMs);
    for (const args of [['instance-id'], ['verify', tokenFile(await token())], ['status', '--url', url]]) await cli(args);
    expect(readdirSync(env.cacheDir).sort()).toEqual(before);
    expect(before.map((name) => statSync(join(env.cacheDir, name)).mtimeMs)).toEqual(stamps);
  });
});
