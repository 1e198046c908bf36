import { afterEach, describe, expect, it } from '@jest/globals';
import { NO_PROXY_SETTINGS, proxyRouteFor, proxySecrets, type ProxySettings } from '../../../src/adapters/http/proxy-route.js';
import { TextGate } from '../../../src/domain/model/safe-text.js';

const HTTPS_BACKEND = new URL('https://license.softclient4es.com');
const HTTP_BACKEND = new URL('http://127.0.0.1:9999/base');

const settings = (overrides: { httpsProxy?: string; httpProxy?: string; noProxy?: string }): ProxySettings => ({
  httpsProxy: overrides.httpsProxy === undefined ? null : new URL(overrides.httpsProxy),
  httpProxy: overrides.httpProxy === undefined ? null : new URL(overrides.httpProxy),
  noProxy: overrides.noProxy ?? null,
});

describe('proxyRouteFor', () => {
  it('goes direct without proxy variables', () => {
    expect(proxyRouteFor(HTTPS_BACKEND, NO_PROXY_SETTINGS)).toBeNull();
  });

  it('takes HTTPS_PROXY for an https:// backend and HTTP_PROXY for an http:// one', () => {
    const both = settings({ httpsProxy: 'http://secure-proxy.corp:3128', httpProxy: 'http://plain-proxy.corp:8080' });

    expect(proxyRouteFor(HTTPS_BACKEND, both)?.host).toBe('secure-proxy.corp:3128');
    expect(proxyRouteFor(HTTP_BACKEND, both)?.host).toBe('plain-proxy.corp:8080');
    expect(proxyRouteFor(HTTP_BACKEND, settings({ httpsProxy: 'http://secure-proxy.corp:3128' }))).toBeNull();
    expect(proxyRouteFor(HTTPS_BACKEND, settings({ httpProxy: 'http://plain-proxy.corp:8080' }))).toBeNull();
  });

  it('names the proxy host:port, with the default port of its scheme when the URL has none', () => {
    expect(proxyRouteFor(HTTPS_BACKEND, settings({ httpsProxy: 'http://proxy.corp' }))?.host).toBe('proxy.corp:80');
    expect(proxyRouteFor(HTTPS_BACKEND, settings({ httpsProxy: 'https://proxy.corp' }))?.host).toBe('proxy.corp:443');
    expect(proxyRouteFor(HTTPS_BACKEND, settings({ httpsProxy: 'http://[::1]:3128' }))?.host).toBe('[::1]:3128');
  });

  it('takes the credentials out of the URL and sends them, percent-decoded, as Basic Proxy-Authorization', () => {
    const route = proxyRouteFor(HTTPS_BACKEND, settings({ httpsProxy: 'http://agent%20user:p%40ss%2Fword@proxy.corp:3128' }));

    expect(route?.url.href).toBe('http://proxy.corp:3128/');
    expect(route?.authorization).toBe(`Basic ${Buffer.from('agent user:p@ss/word').toString('base64')}`);
    expect(proxyRouteFor(HTTPS_BACKEND, settings({ httpsProxy: 'http://proxy.corp:3128' }))?.authorization).toBeNull();
  });

  it.each([
    ['the exact host', 'license.softclient4es.com', null],
    ['a domain suffix', '.softclient4es.com', null],
    ['a wildcard suffix', '*.softclient4es.com', null],
    ['everything', '*', null],
    ['one of a list', 'intranet.corp, license.softclient4es.com', null],
    ['the host and its port', 'license.softclient4es.com:443', null],
    ['the host on another port', 'license.softclient4es.com:8443', 'proxy.corp:3128'],
    ['another host', 'softclient4es.org', 'proxy.corp:3128'],
  ])('follows NO_PROXY (proxy-from-env): %s', (_case, noProxy, expected) => {
    expect(proxyRouteFor(HTTPS_BACKEND, settings({ httpsProxy: 'http://proxy.corp:3128', noProxy }))?.host ?? null).toBe(expected);
  });

  describe('reads the settings, never the process environment', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const name of ['https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    });

    it('ignores proxy variables set in process.env after configuration, and leaves process.env as it was', () => {
      process.env.https_proxy = 'http://not-configured.corp:3128';
      process.env.NO_PROXY = 'proxy.corp';
      const environment = process.env;

      expect(proxyRouteFor(HTTPS_BACKEND, NO_PROXY_SETTINGS)).toBeNull();
      expect(proxyRouteFor(HTTPS_BACKEND, settings({ httpsProxy: 'http://proxy.corp:3128' }))?.host).toBe('proxy.corp:3128');
      expect(process.env).toBe(environment);
      expect(process.env.https_proxy).toBe('http://not-configured.corp:3128');
    });
  });
});

describe('proxySecrets', () => {
  it('is empty without credentials', () => {
    expect(proxySecrets(settings({ httpsProxy: 'http://proxy.corp:3128' }))).toEqual([]);
  });

  it('lets no form of the password through the text gate: as written, decoded, with the user, as sent', () => {
    const gate = new TextGate(proxySecrets(settings({ httpsProxy: 'http://agent:s3cr%40t-Pa55@proxy.corp:3128', httpProxy: 'http://other:hunter2-pw@p2:1' })));
    const basic = Buffer.from('agent:s3cr@t-Pa55').toString('base64');

    for (const text of ['s3cr%40t-Pa55', 's3cr@t-Pa55', 'agent:s3cr@t-Pa55', basic, `Basic ${basic}`, 'hunter2-pw', 'http://other:hunter2-pw@p2:1']) {
      expect(gate.pass(`proxy said ${text}`)).not.toMatch(/s3cr|Pa55|hunter2|[A-Za-z0-9+/]{12,}/);
    }
    expect(gate.pass('proxy at proxy.corp:3128 for agent refused')).toBe('proxy at proxy.corp:3128 for agent refused');
  });

  it('counts a user name without password as the secret (a token given as user name)', () => {
    expect(proxySecrets(settings({ httpsProxy: 'http://tok3n-abcdef123@proxy.corp:3128' }))).toContain('tok3n-abcdef123');
  });
});
