import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, parseDuration } from '../../../src/app/config.js';

const HOME = '/home/operator';
const load = (env: Record<string, string>) => loadConfig(env, HOME);

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
      host: '127.0.0.1',
      port: 8080,
      logLevel: 'info',
    });
    expect(config.backendUrl.href).toBe('https://license.softclient4es.com/');
  });

  it('reads every variable', () => {
    const config = load({
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
      HOST: '0.0.0.0',
      PORT: '0',
      LOG_LEVEL: 'DEBUG',
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
      host: '0.0.0.0',
      port: 0,
      logLevel: 'debug',
    });
    expect(config.backendUrl.href).toBe('http://127.0.0.1:9999/base');
  });

  it('treats empty values as unset', () => {
    expect(load({ SOFTCLIENT4ES_API_KEY: '', PORT: ' ' })).toMatchObject({ apiKey: null, port: 8080 });
  });

  it('keeps a malformed API key: resolution reports it, start-up does not stop', () => {
    expect(load({ SOFTCLIENT4ES_API_KEY: 'not-a-key' }).apiKey).toBe('not-a-key');
  });

  it.each([
    ['SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL', '24', /^Invalid SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: expected a duration/],
    ['SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL', '0s', /greater than zero/],
    ['SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL', '999ms', /at least 1s/],
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
  ])('rejects %s=%j with one line naming it', (variable, value, message) => {
    expect(() => load({ [variable]: value })).toThrow(ConfigError);
    expect(() => load({ [variable]: value })).toThrow(message);
  });

  it('does not echo credentials embedded in the backend URL', () => {
    expect(() => load({ SOFTCLIENT4ES_LICENSE_URL: 'https://user:hunter2@license.example.com' })).toThrow(
      /^Invalid SOFTCLIENT4ES_LICENSE_URL: expected [^"]*$/,
    );
  });

  it.each(['http://localhost:8081', 'http://127.0.0.2:1', 'http://[::1]:9000', 'https://license.example.com/v2/'])(
    'accepts the backend URL %s',
    (url) => {
      expect(load({ SOFTCLIENT4ES_LICENSE_URL: url }).backendUrl.href).toBe(new URL(url).href);
    },
  );
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['14d', 1_209_600_000],
    ['0.5s', 500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration('X', text)).toBe(ms);
  });

  it.each(['', '10', 's', '1w', '1.s', ' 1s', '1e3s'])('rejects %j', (text) => {
    expect(() => parseDuration('X', text)).toThrow(ConfigError);
  });
});
