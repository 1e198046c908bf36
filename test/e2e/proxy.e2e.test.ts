import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { issueToken } from '../support/fake-license-backend.js';
import { basicCredentials, LoopbackProxy, type ProxyCredentials } from '../support/loopback-proxy.js';
import { ServerProcess } from '../support/server-process.js';
import { aLicenseToken } from '../support/signing-keys.js';

const API_KEY = 'sk-e2e-proxy-secret-key-value';
const CREDENTIALS: ProxyCredentials = { user: 'agent-user', password: 'hunter2/Pr0xy@pass' };

describe('the built server (npm start) behind a proxy', () => {
  let env: AgentEnvironment;
  let proxy: LoopbackProxy;
  let server: ServerProcess | undefined;
  beforeEach(async () => {
    env = await AgentEnvironment.create();
    proxy = await LoopbackProxy.start(CREDENTIALS);
  });
  afterEach(async () => {
    await server?.kill();
    server = undefined;
    await proxy.stop();
    await env.dispose();
  });

  it('fetches the license through HTTP_PROXY, reports the proxy host, and prints the credentials nowhere', async () => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    const started = await ServerProcess.start(env.env({ SOFTCLIENT4ES_API_KEY: API_KEY, HTTP_PROXY: proxy.url(CREDENTIALS) }));
    server = started.server;

    await server.waitForLog((line) => line.msg === 'License upgraded from Community to Pro');
    const response = await fetch(`${started.url}/admin/license`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = await response.text();

    expect(JSON.parse(body)).toMatchObject({ tier: 'Pro', proxy: proxy.host });
    expect(proxy.connects).toEqual([{ target: new URL(env.backend.url).host, proxyAuthorization: basicCredentials(CREDENTIALS) }]);
    expect(await server.stop('SIGTERM')).toBe(0);
    for (const text of [body, server.stdout, server.stderr]) {
      expect(text).not.toContain(CREDENTIALS.password);
      expect(text).not.toContain(encodeURIComponent(CREDENTIALS.password));
    }
  });

  it('refuses a proxy URL it cannot use with exit 2 and one line naming the variable, never quoting credentials', async () => {
    server = ServerProcess.spawn(env.env({ HTTPS_PROXY: `socks5://${CREDENTIALS.user}:hunter2@127.0.0.1:${proxy.port}` }));

    expect(await server.exitCode()).toBe(2);
    expect(server.stderr.trim().split('\n')).toEqual([
      'Invalid HTTPS_PROXY: expected an http:// or https:// proxy URL (user:password@ allowed, percent-encoded) without path, query or fragment',
    ]);
    expect(server.stdout).toBe('');
  });
});
