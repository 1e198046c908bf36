import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DURATION_RANGES, loadConfig, parseDuration } from '../../../src/app/config.js';
import { loadHostConfig } from '../../../src/app/host-config.js';
import { makeFifo } from '../../support/file-system.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

const HOME = '/home/operator';
const load = (env: Record<string, string>) => loadConfig(env, HOME);
/** The example host's reading: the agent's variables and its own, all problems at once. */
const loadHost = (env: Record<string, string>) => loadHostConfig(env, HOME);

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = load({});
    expect(config).toMatchObject({
      staticLicenseJwt: null,
      apiKey: null,
      issuer: 'https://license.softclient4es.com',
      publicKeysFile: null,
      cacheDir: '/home/operator/.softclient4es',
      refreshEnabled: true,
      refreshIntervalMs: 24 * 3_600_000,
      gracePeriodMs: 14 * 86_400_000,
      connectTimeoutMs: 10_000,
      readTimeoutMs: 10_000,
      adminToken: null,
      adminRefreshMinIntervalMs: 10_000,
      upgradeUrl: 'https://portal.softclient4es.com/pricing',
      logLevel: 'info',
    });
    expect(config.backendUrl.href).toBe('https://license.softclient4es.com/');
    expect(loadHost({}).host).toEqual({ host: '127.0.0.1', port: 8080, logLevel: 'info', maxConnections: 1024, shutdownDrainMs: 0 });
  });

  it('reads every variable', () => {
    const { agent: config, host } = loadHost({
      SOFTCLIENT4ES_LICENSE_KEY: 'eyJ.static.jwt',
      SOFTCLIENT4ES_API_KEY: 'sk-live-1',
      SOFTCLIENT4ES_LICENSE_URL: 'http://127.0.0.1:9999/base',
      SOFTCLIENT4ES_LICENSE_ISSUER: 'https://issuer.example',
      SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS: '~/keys.json',
      SOFTCLIENT4ES_LICENSE_CACHE_DIR: '/var/cache/agent',
      SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: 'FALSE',
      SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: '90m',
      SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: '0s',
      SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT: '1.5s',
      SOFTCLIENT4ES_LICENSE_READ_TIMEOUT: '250ms',
      SOFTCLIENT4ES_ADMIN_TOKEN: 'a-long-admin-token-value',
      SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s',
      SOFTCLIENT4ES_UPGRADE_URL: 'https://example.com/buy',
      SOFTCLIENT4ES_SHUTDOWN_DRAIN: '15s',
      HOST: '0.0.0.0',
      PORT: '0',
      LOG_LEVEL: 'DEBUG',
      MAX_CONNECTIONS: '64',
    });
    expect(config).toMatchObject({
      staticLicenseJwt: 'eyJ.static.jwt',
      apiKey: 'sk-live-1',
      issuer: 'https://issuer.example',
      publicKeysFile: '/home/operator/keys.json',
      cacheDir: '/var/cache/agent',
      refreshEnabled: false,
      refreshIntervalMs: 90 * 60_000,
      gracePeriodMs: 0,
      connectTimeoutMs: 1_500,
      readTimeoutMs: 250,
      adminToken: 'a-long-admin-token-value',
      adminRefreshMinIntervalMs: 0,
      upgradeUrl: 'https://example.com/buy',
      logLevel: 'debug',
    });
    expect(host).toEqual({ host: '0.0.0.0', port: 0, logLevel: 'debug', maxConnections: 64, shutdownDrainMs: 15_000 });
    expect(config.backendUrl.href).toBe('http://127.0.0.1:9999/base');
  });

  it('treats empty values as unset', () => {
    expect(load({ SOFTCLIENT4ES_API_KEY: '' })).toMatchObject({ apiKey: null });
    expect(loadHost({ PORT: ' ' }).host.port).toBe(8080);
  });

  it('keeps a malformed API key: resolution reports it, start-up does not stop', () => {
    expect(load({ SOFTCLIENT4ES_API_KEY: 'not-a-key' }).apiKey).toBe('not-a-key');
  });

  it.each([
    ['SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL', '24', /^Invalid SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: expected a duration/],
    ['SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL', '0s', /from 1s to 30d/],
    ['SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL', '999ms', /from 1s to 30d/],
    ['SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL', '31d', /from 1s to 30d/],
    ['SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT', '25d', /from 100ms to 5m \(got "25d"\)$/],
    ['SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT', '99ms', /from 100ms to 5m/],
    ['SOFTCLIENT4ES_LICENSE_READ_TIMEOUT', '301s', /from 100ms to 5m/],
    ['SOFTCLIENT4ES_LICENSE_GRACE_PERIOD', '100000000d', /from 0s to 365d/],
    ['SOFTCLIENT4ES_LICENSE_GRACE_PERIOD', '366d', /from 0s to 365d/],
    ['SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL', '61m', /from 0s to 1h/],
    ['SOFTCLIENT4ES_LICENSE_ISSUER', 'not a url', /^Invalid SOFTCLIENT4ES_LICENSE_ISSUER: expected an http\(s\):\/\/ URL/],
    ['SOFTCLIENT4ES_LICENSE_GRACE_PERIOD', '-1d', /^Invalid SOFTCLIENT4ES_LICENSE_GRACE_PERIOD/],
    ['SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT', '10 seconds', /^Invalid SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT/],
    ['SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED', 'maybe', /^Invalid SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: expected true or false \(got "maybe"\)$/],
    ['PORT', '70000', /^Invalid PORT: expected a TCP port number from 0 to 65535/],
    ['PORT', 'http', /^Invalid PORT/],
    ['LOG_LEVEL', 'verbose', /^Invalid LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent/],
    ['SOFTCLIENT4ES_LICENSE_URL', 'not a url', /^Invalid SOFTCLIENT4ES_LICENSE_URL: expected an https:\/\/ URL/],
    ['SOFTCLIENT4ES_LICENSE_URL', 'http://license.example.com', /^Invalid SOFTCLIENT4ES_LICENSE_URL/],
    ['SOFTCLIENT4ES_LICENSE_URL', 'ftp://127.0.0.1', /^Invalid SOFTCLIENT4ES_LICENSE_URL/],
    ['SOFTCLIENT4ES_LICENSE_URL', 'https://license.example.com/?key=1', /^Invalid SOFTCLIENT4ES_LICENSE_URL/],
    ['SOFTCLIENT4ES_UPGRADE_URL', 'mailto:sales@example.com', /^Invalid SOFTCLIENT4ES_UPGRADE_URL: expected an https:\/\//],
    ['SOFTCLIENT4ES_SHUTDOWN_DRAIN', '6m', /^Invalid SOFTCLIENT4ES_SHUTDOWN_DRAIN: .*from 0s to 5m/],
    ['MAX_CONNECTIONS', '0', /^Invalid MAX_CONNECTIONS: expected a whole number from 1 to 1000000/],
  ])('rejects %s=%j with one line naming it', (variable, value, message) => {
    expect(() => loadHost({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadHost({ [variable]: value })).toThrow(message);
  });

  it('leaves a host\'s own LOG_LEVEL to the host: the embedded agent reads an unknown level as info', () => {
    expect(load({ LOG_LEVEL: 'warning' }).logLevel).toBe('info');
    expect(load({ LOG_LEVEL: 'WARN' }).logLevel).toBe('warn');
    expect(() => load({ HOST: '::', PORT: 'http', MAX_CONNECTIONS: 'many' })).not.toThrow();
  });

  describe('secrets from files (*_FILE)', () => {
    let dir: string;
    beforeEach(() => {
      dir = makeTempDir('config-secret-files-');
    });
    afterEach(() => removeTempDir(dir));
    const file = (name: string, content: string) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };

    it.each([
      ['SOFTCLIENT4ES_API_KEY', 'apiKey', 'sk-from-a-file-0123'],
      ['SOFTCLIENT4ES_LICENSE_KEY', 'staticLicenseJwt', 'eyJ.from.file'],
      ['SOFTCLIENT4ES_ADMIN_TOKEN', 'adminToken', 'admin-token-from-a-file'],
    ] as const)('reads %s from %s_FILE, trimmed', (variable, field, secret) => {
      expect(load({ [`${variable}_FILE`]: file('secret', `${secret}\n`) })[field]).toBe(secret);
    });

    it('remembers which secrets came from files, so that a reload (SIGHUP) reads them again', () => {
      const config = load({ SOFTCLIENT4ES_API_KEY_FILE: file('k', 'sk-a-key-1'), SOFTCLIENT4ES_ADMIN_TOKEN: 'direct-admin-token-1234' });
      expect(config.secretFiles).toEqual({ apiKey: join(dir, 'k'), staticLicenseJwt: null, adminToken: null });
    });

    it('refuses both forms set, without echoing either', () => {
      const error = catchConfigError({ SOFTCLIENT4ES_API_KEY: 'sk-direct-secret-1', SOFTCLIENT4ES_API_KEY_FILE: file('k', 'sk-file-secret-2') });
      expect(error.message).toBe('Invalid SOFTCLIENT4ES_API_KEY: expected either SOFTCLIENT4ES_API_KEY or SOFTCLIENT4ES_API_KEY_FILE, not both');
    });

    it.each([
      ['a missing file', () => join(dir, 'absent'), /cannot be read \(ENOENT\)/],
      ['a directory', () => dir, /not a regular file \(a directory\)/],
      ['a FIFO, refused at once instead of blocking start-up', () => (makeFifo(join(dir, 'fifo')), join(dir, 'fifo')), /not a regular file \(a FIFO\)/],
      ['a file over 64 KiB', () => file('big', 'x'.repeat(64 * 1024 + 1)), /larger than 65536 bytes/],
      ['an empty file', () => file('empty', ' \n'), /a non-empty file/],
    ])('refuses %s, naming the file variable and never the content', (_case, path, reason) => {
      const error = catchConfigError({ SOFTCLIENT4ES_ADMIN_TOKEN_FILE: path() });
      expect(error.variable).toBe('SOFTCLIENT4ES_ADMIN_TOKEN_FILE');
      expect(error.message).toMatch(reason);
    });

    it('keeps a secret read from a file out of every echoed value', () => {
      const secret = 'sk-live-read-from-file-0123456789';
      const error = catchConfigError({ SOFTCLIENT4ES_API_KEY_FILE: file('k', secret), PORT: secret }, loadHost);
      expect(error.message).not.toContain('read-from-file');
    });
  });

  it.each([
    'https://user:hunter2@license.example.com',
    // Does not even parse (port out of range): today's hole, the value was printed back.
    'https://user:hunter2@license.example.com:99999/',
    'ftp://user:hunter2@127.0.0.1/',
  ])('does not echo credentials embedded in a URL: %s', (url) => {
    for (const variable of ['SOFTCLIENT4ES_LICENSE_URL', 'SOFTCLIENT4ES_LICENSE_ISSUER']) {
      expect(() => load({ [variable]: url })).toThrow(new RegExp(`^Invalid ${variable}: expected [^"]*$`));
      expect(() => load({ [variable]: url })).not.toThrow(/hunter2/);
    }
  });

  it('reports every bad variable at once, one line each, in a stable order', () => {
    const error = catchConfigError({ PORT: 'x', LOG_LEVEL: 'loud', SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: '1y' }, loadHost);
    expect(error.message.split('\n')).toEqual([
      expect.stringMatching(/^Invalid SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: .* \(got "1y"\)$/),
      expect.stringMatching(/^Invalid PORT: /),
      expect.stringMatching(/^Invalid LOG_LEVEL: /),
    ]);
    expect(error.problems.map((problem) => problem.variable)).toEqual(['SOFTCLIENT4ES_LICENSE_GRACE_PERIOD', 'PORT', 'LOG_LEVEL']);
    expect(error.variable).toBe('SOFTCLIENT4ES_LICENSE_GRACE_PERIOD');
  });

  it('quotes a bad value through the text gate: no control characters, no secret', () => {
    const apiKey = 'sk-live-0123456789abcdef';
    const error = catchConfigError({ SOFTCLIENT4ES_API_KEY: apiKey, LOG_LEVEL: `x\u202e\n${apiKey}` }, loadHost);
    expect(error.message).toBe('Invalid LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent (got "x [REDACTED]")');
  });

  it('property: never throws anything but ConfigError, never yields a number that is not finite or out of range', () => {
    const variables = [...Object.keys(DURATION_RANGES), 'PORT', 'SOFTCLIENT4ES_LICENSE_URL', 'SOFTCLIENT4ES_LICENSE_ISSUER', 'LOG_LEVEL', 'HTTPS_PROXY', 'http_proxy', 'SOFTCLIENT4ES_FLEET_REDIS_URL', 'SOFTCLIENT4ES_FLEET_ID'];
    const durationLike = fc
      .tuple(fc.oneof(fc.nat(), fc.double({ noNaN: false }), fc.constant(1e300)), fc.constantFrom('ms', 's', 'm', 'h', 'd', '', 'w'))
      .map(([n, unit]) => `${n}${unit}`);
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...variables), fc.oneof(fc.string(), durationLike, fc.webUrl())), (env) => {
        let config;
        let port;
        try {
          ({ agent: config, host: { port } } = loadHost(env));
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          return;
        }
        for (const [name, range] of Object.entries(DURATION_RANGES)) {
          const value = name === 'SOFTCLIENT4ES_FLEET_LEASE_TTL' ? (config.fleet?.leaseTtlMs ?? range.min) : config[DURATION_FIELDS[name as keyof typeof DURATION_FIELDS]];
          expect(Number.isInteger(value) && value >= range.min && value <= range.max).toBe(true);
        }
        expect(Number.isInteger(port)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it.each(['http://localhost:8081', 'http://127.0.0.2:1', 'http://[::1]:9000', 'https://license.example.com/v2/'])(
    'accepts the backend URL %s',
    (url) => {
      expect(load({ SOFTCLIENT4ES_LICENSE_URL: url }).backendUrl.href).toBe(new URL(url).href);
    },
  );
});

const DURATION_FIELDS = {
  SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT: 'connectTimeoutMs',
  SOFTCLIENT4ES_LICENSE_READ_TIMEOUT: 'readTimeoutMs',
  SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: 'refreshIntervalMs',
  SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: 'gracePeriodMs',
  SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: 'adminRefreshMinIntervalMs',
} as const;

function catchConfigError(env: Record<string, string>, parse: (env: Record<string, string>) => unknown = load): ConfigError {
  try {
    parse(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseDuration', () => {
  const ANY = { min: 0, max: Number.MAX_SAFE_INTEGER, words: 'any' };
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['14d', 1_209_600_000],
    ['0.5s', 500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, ANY)).toBe(ms);
  });

  it.each(['', '10', 's', '1w', '1.s', ' 1s', '1e3s', '-1s', `${'9'.repeat(400)}d`])('rejects %j', (text) => {
    expect(() => parseDuration(text, ANY)).toThrow(/^a duration: /);
  });
});

describe('loadConfig: proxy variables', () => {
  const proxyOf = (env: Record<string, string>) => {
    const { httpsProxy, httpProxy, noProxy } = load(env).proxy;
    return { httpsProxy: httpsProxy?.href ?? null, httpProxy: httpProxy?.href ?? null, noProxy };
  };

  it('are unset by default', () => {
    expect(proxyOf({})).toEqual({ httpsProxy: null, httpProxy: null, noProxy: null });
  });

  it('reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY, with credentials, from the given environment only', () => {
    expect(proxyOf({ HTTPS_PROXY: 'http://user:p%40ss@proxy.corp:3128', HTTP_PROXY: 'https://proxy.corp', NO_PROXY: 'localhost,.corp' })).toEqual({
      httpsProxy: 'http://user:p%40ss@proxy.corp:3128/',
      httpProxy: 'https://proxy.corp/',
      noProxy: 'localhost,.corp',
    });
  });

  it('prefers the lower-case forms, as proxy-from-env does', () => {
    expect(
      proxyOf({
        https_proxy: 'http://lower:1',
        HTTPS_PROXY: 'http://upper:1',
        http_proxy: 'http://lower:2',
        HTTP_PROXY: 'http://upper:2',
        no_proxy: 'lower',
        NO_PROXY: 'upper',
      }),
    ).toEqual({ httpsProxy: 'http://lower:1/', httpProxy: 'http://lower:2/', noProxy: 'lower' });
    expect(proxyOf({ HTTPS_PROXY: 'http://upper:1', https_proxy: '' })).toMatchObject({ httpsProxy: 'http://upper:1/' });
  });

  it.each(['proxy.corp:3128', 'socks5://proxy.corp:1080', 'http://proxy.corp:3128/path', 'http://proxy.corp:3128/?q=1', 'http://proxy.corp:99999', 'not a url'])(
    'refuses %s, naming the variable and quoting the value (no credentials in it)',
    (value) => {
      for (const variable of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) {
        expect(() => load({ [variable]: value })).toThrow(`Invalid ${variable}: expected an http:// or https:// proxy URL`);
        expect(() => load({ [variable]: value })).toThrow(`(got "${value}")`);
      }
    },
  );

  it.each([
    'user:hunter2@proxy.corp:3128', // no scheme
    'socks5://user:hunter2@proxy.corp:1080',
    'http://user:hunter2@proxy.corp:99999',
    'http://user:hunter2@proxy.corp:3128/path',
    'http://user:hunter2%zz@proxy.corp:3128', // does not decode
    'http://user:hunter2@',
  ])('refuses %s without quoting it: it holds credentials', (value) => {
    const error = catchConfigError({ HTTPS_PROXY: value, HTTP_PROXY: value });
    expect(error.message.split('\n')).toEqual([
      expect.stringMatching(/^Invalid HTTPS_PROXY: expected [^"]*$/),
      expect.stringMatching(/^Invalid HTTP_PROXY: expected [^"]*$/),
    ]);
    expect(error.message).not.toContain('hunter2');
  });

  it('checks both forms of a variable, even the one that is not used', () => {
    expect(() => load({ https_proxy: 'http://proxy.corp:3128', HTTPS_PROXY: 'proxy.corp:3128' })).toThrow(/^Invalid HTTPS_PROXY: /);
  });
});

describe('loadConfig: fleet variables', () => {
  it('leaves fleet mode off without SOFTCLIENT4ES_FLEET_REDIS_URL, whatever the id', () => {
    expect(load({}).fleet).toBeNull();
    expect(load({ SOFTCLIENT4ES_FLEET_ID: 'eu-west' }).fleet).toBeNull();
  });

  it('turns fleet mode on with a redis:// or rediss:// URL; the id defaults to "default", the lease to 10 s', () => {
    const fleet = load({ SOFTCLIENT4ES_FLEET_REDIS_URL: 'rediss://:s3cret%40pw@redis.internal:6380/2' }).fleet;
    expect(fleet).toMatchObject({ id: 'default', leaseTtlMs: 10_000 });
    expect(fleet?.redisUrl.href).toBe('rediss://:s3cret%40pw@redis.internal:6380/2');
    expect(load({ SOFTCLIENT4ES_FLEET_REDIS_URL: 'redis://127.0.0.1', SOFTCLIENT4ES_FLEET_ID: 'eu-west.1', SOFTCLIENT4ES_FLEET_LEASE_TTL: '3s' }).fleet).toMatchObject({
      id: 'eu-west.1',
      leaseTtlMs: 3_000,
    });
  });

  it.each(['http://redis:6379', 'redis://', 'redis://host/db/x', 'redis://host?tls=1', 'not a url'])('refuses %s, naming the variable', (value) => {
    expect(() => load({ SOFTCLIENT4ES_FLEET_REDIS_URL: value })).toThrow(/^Invalid SOFTCLIENT4ES_FLEET_REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('never quotes a Redis URL that holds credentials, and keeps its password out of every other echoed value', () => {
    const error = catchConfigError({
      SOFTCLIENT4ES_FLEET_REDIS_URL: 'http://user:hunter2-redis@redis:6379',
      SOFTCLIENT4ES_UPGRADE_URL: 'ftp://x/hunter2-redis',
    });
    expect(error.message).toMatch(/^Invalid SOFTCLIENT4ES_FLEET_REDIS_URL: expected [^"]*$/m);
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses a fleet id that is not a plain name, and a lease outside 2s–5m', () => {
    const error = catchConfigError({ SOFTCLIENT4ES_FLEET_REDIS_URL: 'redis://r', SOFTCLIENT4ES_FLEET_ID: 'a:b', SOFTCLIENT4ES_FLEET_LEASE_TTL: '1s' });
    expect(error.message.split('\n')).toEqual([
      'Invalid SOFTCLIENT4ES_FLEET_ID: expected 1 to 64 letters, digits, ".", "_" or "-" (got "a:b")',
      expect.stringMatching(/^Invalid SOFTCLIENT4ES_FLEET_LEASE_TTL: expected a duration: .*from 2s to 5m \(got "1s"\)$/),
    ]);
  });
});

describe('SOFTCLIENT4ES_TELEMETRY_ENABLED (DESIGN §5, §12)', () => {
  it('is on by default: the usage counters travel with the token request', () => {
    expect(load({}).telemetryEnabled).toBe(true);
  });

  it.each([
    ['false', false],
    ['FALSE', false],
    [' 0 ', false],
    ['true', true],
    ['1', true],
    ['', true],
  ])('reads %p as %p', (value, enabled) => {
    expect(load({ SOFTCLIENT4ES_TELEMETRY_ENABLED: value }).telemetryEnabled).toBe(enabled);
  });

  it.each(['off', 'no', 'disabled', 'flase'])('refuses %p with one line naming the variable, next to the other bad ones', (value) => {
    const error = catchConfigError({ SOFTCLIENT4ES_TELEMETRY_ENABLED: value, SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: 'maybe' });

    expect(error.message.split('\n')).toEqual([
      'Invalid SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: expected true or false (got "maybe")',
      `Invalid SOFTCLIENT4ES_TELEMETRY_ENABLED: expected true or false (got "${value}")`,
    ]);
  });
});

describe('loadConfig: SOFTCLIENT4ES_INSTANCE_ON_CLONE', () => {
  it('is keep by default; keep and renew in any case', () => {
    expect(load({}).instanceOnClone).toBe('keep');
    expect(load({ SOFTCLIENT4ES_INSTANCE_ON_CLONE: 'RENEW' }).instanceOnClone).toBe('renew');
    expect(load({ SOFTCLIENT4ES_INSTANCE_ON_CLONE: ' keep ' }).instanceOnClone).toBe('keep');
  });

  it('refuses anything else with one clear line, together with the other bad variables', () => {
    const error = catchConfigError({ SOFTCLIENT4ES_INSTANCE_ON_CLONE: 'forget', SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: 'soon' });
    expect(error.message.split('\n')).toEqual([
      expect.stringMatching(/^Invalid SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: /),
      'Invalid SOFTCLIENT4ES_INSTANCE_ON_CLONE: expected keep or renew (got "forget")',
    ]);
  });
});

describe('SOFTCLIENT4ES_ENFORCEMENT_MODE', () => {
  it('is enforce by default, and reads enforce or shadow in any case', () => {
    expect(load({}).enforcementMode).toBe('enforce');
    expect(load({ SOFTCLIENT4ES_ENFORCEMENT_MODE: 'shadow' }).enforcementMode).toBe('shadow');
    expect(load({ SOFTCLIENT4ES_ENFORCEMENT_MODE: ' Shadow ' }).enforcementMode).toBe('shadow');
    expect(load({ SOFTCLIENT4ES_ENFORCEMENT_MODE: 'ENFORCE' }).enforcementMode).toBe('enforce');
    expect(load({ SOFTCLIENT4ES_ENFORCEMENT_MODE: '' }).enforcementMode).toBe('enforce');
  });

  it.each(['dry-run', 'off', 'true'])('refuses %j with one line naming the variable and the two modes', (value) => {
    expect(() => load({ SOFTCLIENT4ES_ENFORCEMENT_MODE: value })).toThrow(
      new ConfigError([{ variable: 'SOFTCLIENT4ES_ENFORCEMENT_MODE', expected: 'enforce or shadow', received: value as never }]),
    );
    expect(() => load({ SOFTCLIENT4ES_ENFORCEMENT_MODE: value })).toThrow(`Invalid SOFTCLIENT4ES_ENFORCEMENT_MODE: expected enforce or shadow (got "${value}")`);
  });

  it('is reported together with the other bad variables', () => {
    let error: unknown;
    try {
      load({ SOFTCLIENT4ES_ENFORCEMENT_MODE: 'soft', SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: 'long' });
    } catch (caught) {
      error = caught;
    }
    expect((error as ConfigError).problems.map((problem) => problem.variable).sort()).toEqual(['SOFTCLIENT4ES_ENFORCEMENT_MODE', 'SOFTCLIENT4ES_LICENSE_GRACE_PERIOD']);
  });
});
