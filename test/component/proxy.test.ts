import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { PinoLogger } from '../../src/adapters/pino/pino-logger.js';
import { createLicenseAgent, textGateFor } from '../../src/app/create-license-agent.js';
import { createHostApp } from '../../src/app/host-server.js';
import type { LicenseAgent } from '../../src/app/license-agent.js';
import type { Logger } from '../../src/ports/logger.port.js';
import { OpenApiContract } from '../contract/openapi-contract.js';
import { ADMIN_TOKEN, AgentEnvironment } from '../support/agent-environment.js';
import { issueToken, respondJson } from '../support/fake-license-backend.js';
import { basicCredentials, LoopbackProxy, type ProxyCredentials } from '../support/loopback-proxy.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { aLicenseToken } from '../support/signing-keys.js';

const API_KEY = 'sk-proxy-component-0123456789abcdef';
const AUTH = `Bearer ${ADMIN_TOKEN}`;
const CREDENTIALS: ProxyCredentials = { user: 'agent-user', password: 'hunter2/Pr0xy@pass' };
const WRONG: ProxyCredentials = { user: 'agent-user', password: 'wrong-Pr0xy-password' };

/** Every form in which proxy credentials could leak: as written in the URL, decoded, as sent. */
const credentialForms = ({ user, password }: ProxyCredentials) => [
  password,
  encodeURIComponent(password),
  `${user}:${password}`,
  basicCredentials({ user, password }).slice('Basic '.length),
];

let contract: OpenApiContract;
beforeAll(async () => {
  contract = await OpenApiContract.load();
});

/** Issue 10 §2 through the example host: the backend behind a proxy, as an operator sees it. */
describe('example host behind a proxy', () => {
  let env: AgentEnvironment;
  let proxy: LoopbackProxy;
  let logger: RecordingLogger;
  let agent: LicenseAgent | undefined;

  beforeEach(async () => {
    env = await AgentEnvironment.create();
    proxy = await LoopbackProxy.start(CREDENTIALS);
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await proxy.stop();
    await env.dispose();
    expect(contract.takeViolations()).toEqual([]);
  });

  const startHost = async (overrides: Record<string, string>, given: Logger = logger) => {
    const config = env.config({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: '0s', ...overrides });
    agent = await createLicenseAgent(config, { logger: given });
    await agent.start();
    return contract.guard(createHostApp(agent, logger));
  };
  const status = async (app: Parameters<typeof request>[0]) => (await request(app).get('/admin/license').set('Authorization', AUTH).expect(200)).body;
  const expectFreeOfCredentials = (texts: readonly string[], credentials: ProxyCredentials) => {
    for (const text of texts) for (const secret of credentialForms(credentials)) expect(text).not.toContain(secret);
  };

  it('fetches the license through the proxy and reports the proxy as host:port on GET /admin/license, never its credentials', async () => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    const app = await startHost({ HTTP_PROXY: proxy.url(CREDENTIALS) });

    const body = await status(app);

    expect(body).toMatchObject({ tier: 'Pro', source: 'api_key', proxy: proxy.host });
    expect(proxy.connects).toEqual([{ target: new URL(env.backend.url).host, proxyAuthorization: basicCredentials(CREDENTIALS) }]);
    expectFreeOfCredentials([JSON.stringify(body), JSON.stringify(logger.entries)], CREDENTIALS);
  });

  it.each<[string, Record<string, string>]>([
    ['no proxy variable is set', {}],
    ['NO_PROXY matches the backend', { NO_PROXY: '127.0.0.1' }],
  ])('reports proxy: null when %s, and goes direct', async (_case, overrides) => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    const withProxy: Record<string, string> = Object.keys(overrides).length === 0 ? {} : { HTTP_PROXY: proxy.url(CREDENTIALS) };
    const app = await startHost({ ...withProxy, ...overrides });

    expect(await status(app)).toMatchObject({ tier: 'Pro', proxy: null });
    expect(proxy.connects).toEqual([]);
    expect(env.backend.requests).toHaveLength(1);
  });

  it('a proxy refusing the credentials (407) is a transient failure: 502 naming the proxy host, no credentials anywhere', async () => {
    env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro' })));
    const app = await startHost({ HTTP_PROXY: proxy.url(WRONG) });
    expect(await status(app)).toMatchObject({ tier: 'Community', proxy: proxy.host });

    const refresh = await request(app).post('/admin/license/refresh').set('Authorization', AUTH).expect(502);
    const body = await status(app);

    const reason = `proxy at ${proxy.host} refused the tunnel to the license backend at ${new URL(env.backend.url).host} with HTTP 407`;
    expect(refresh.body).toMatchObject({ status: 'failed', message: expect.stringContaining(reason) });
    expect(body.refresh.last_error).toMatch(new RegExp(`^BACKEND\\.UNEXPECTED_STATUS: ${reason.replace(/\./g, '\\.')}`));
    expect(body.resolution).toContainEqual(expect.objectContaining({ source: 'api_key', outcome: 'failed', code: 'BACKEND.UNEXPECTED_STATUS' }));
    expect(logger.at('warn')).toContainEqual(expect.stringContaining(reason));
    expect(env.backend.requests).toHaveLength(0);
    expectFreeOfCredentials([JSON.stringify(refresh.body), JSON.stringify(body), JSON.stringify(logger.entries)], WRONG);
  });

  it('proxy credentials are secrets of the text gate: text quoting them is redacted in the status and in pino log lines', async () => {
    const lines: string[] = [];
    const overrides = { HTTP_PROXY: proxy.url(CREDENTIALS) };
    const pino = new PinoLogger({
      level: 'debug',
      gate: textGateFor(env.config({ SOFTCLIENT4ES_API_KEY: API_KEY, ...overrides })),
      destination: { write: (line: string) => void lines.push(line) },
    });
    env.backend.handle(respondJson(503, { error: 'maintenance', message: `proxy said ${CREDENTIALS.user}:${CREDENTIALS.password}` }));
    const app = await startHost(overrides, pino);

    const body = await status(app);

    expect(body.refresh.last_error).toBe('BACKEND.HTTP_STATUS: license backend answered HTTP 503: proxy said [REDACTED]');
    expect(lines.join('')).toContain('proxy said [REDACTED]');
    expectFreeOfCredentials([JSON.stringify(body), lines.join('')], CREDENTIALS);
  });
});
