import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { TextGate } from '../../../src/domain/model/safe-text.js';
import { PinoLogger, type PinoLoggerOptions } from '../../../src/adapters/pino/pino-logger.js';
import { aLicenseToken, generateSigningKey } from '../../support/signing-keys.js';

// Printable ASCII with a quote and a backslash: JSON escapes them, so a scrubber looking only for
// the raw value would miss it in a log line.
const API_KEY = 'sk-live-Pr0d"Key\\9f3a-7c21';
const ADMIN_TOKEN = 'adm1n-T0ken-5d8e2f0a9b7c';
const REDACTED = '[REDACTED]';

interface LogLine {
  readonly level: number;
  readonly severity: string;
  readonly time: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A PinoLogger writing into memory: `output` is exactly what would reach stdout. */
function recordingLogger(options: Partial<PinoLoggerOptions> = {}) {
  const writes: string[] = [];
  const logger = new PinoLogger({
    level: 'debug',
    gate: new TextGate([API_KEY, ADMIN_TOKEN]),
    destination: { write: (line: string) => void writes.push(line) },
    ...options,
  });
  return {
    logger,
    writes,
    output: () => writes.join(''),
    lines: (): LogLine[] => writes.map((line) => JSON.parse(line) as LogLine),
    onlyLine: (): LogLine => {
      expect(writes).toHaveLength(1);
      return JSON.parse(writes.join('')) as LogLine;
    },
  };
}

/** Every string in a parsed line, keys included: a secret hidden by JSON escaping shows up here. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, inner]) => [key, ...stringsIn(inner)]);
  return [];
}

function expectFreeOf(output: string, secrets: readonly string[]): void {
  const parsedStrings = output
    .split('\n')
    .filter((line) => line.length > 0)
    .flatMap((line) => stringsIn(JSON.parse(line)));
  for (const secret of secrets) {
    expect(output).not.toContain(secret);
    expect(output).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(parsedStrings.filter((text) => text.includes(secret))).toEqual([]);
  }
}

let jwt: string;

beforeAll(async () => {
  jwt = await aLicenseToken(generateSigningKey());
});

describe('PinoLogger', () => {
  describe('line format', () => {
    it('writes one JSON object per line with the message, level, severity, ISO time and fields', () => {
      const { logger, writes, onlyLine } = recordingLogger();

      logger.info('License upgraded from Community to Pro', { tier: 'pro', days_remaining: 365 });

      const line = onlyLine();
      expect(writes.join('')).toMatch(/^[^\n]+\n$/);
      expect(line).toMatchObject({ msg: 'License upgraded from Community to Pro', level: 30, severity: 'info', tier: 'pro', days_remaining: 365 });
      expect(new Date(line.time).toISOString()).toBe(line.time);
    });

    it('maps each method to its pino level', () => {
      const { logger, lines } = recordingLogger();

      logger.debug('d');
      logger.info('i');
      logger.warn('w');
      logger.error('e');

      expect(lines().map(({ msg, level, severity }) => [msg, level, severity])).toEqual([
        ['d', 20, 'debug'],
        ['i', 30, 'info'],
        ['w', 40, 'warn'],
        ['e', 50, 'error'],
      ]);
    });

    it('keeps a message with format placeholders as it is', () => {
      const { logger, onlyLine } = recordingLogger();

      logger.warn('rate is 100% of %s');

      expect(onlyLine().msg).toBe('rate is 100% of %s');
    });
  });

  describe('level', () => {
    it.each([
      ['info', ['i', 'w', 'e']],
      ['debug', ['d', 'i', 'w', 'e']],
      ['warn', ['w', 'e']],
      ['error', ['e']],
      ['silent', []],
    ] as const)('at %s, prints only the lines at or above it', (level, printed) => {
      const { logger, lines } = recordingLogger({ level });

      logger.debug('d');
      logger.info('i');
      logger.warn('w');
      logger.error('e');

      expect(lines().map((line) => line.msg)).toEqual(printed);
    });
  });

  describe('secrets never printed', () => {
    it('scrubs the configured secrets from the message, even when JSON escaping changes how they look', () => {
      const { logger, output, onlyLine } = recordingLogger();

      logger.error(`Backend rejected API key ${API_KEY}; admin token is ${ADMIN_TOKEN}`);

      expect(onlyLine().msg).toBe(`Backend rejected API key ${REDACTED}; admin token is ${REDACTED}`);
      expectFreeOf(output(), [API_KEY, ADMIN_TOKEN]);
    });

    it('scrubs a secret learnt after construction (a generated admin token) from then on', () => {
      const generated = 'Zk3-generated_admin_token_value_0123456789ab';
      const { logger, output, lines } = recordingLogger({ gate: new TextGate() });

      logger.info(`token ${generated}`);
      logger.addSecret(generated);
      logger.info(`token ${generated}`, { nested: { value: generated } });

      expect(lines().map((line) => line.msg)).toEqual([`token ${generated}`, `token ${REDACTED}`]);
      expect(output().split('\n')[1]).not.toContain(generated);
    });

    it('scrubs secrets from field values, nested objects, arrays and key names', () => {
      const { logger, output, onlyLine } = recordingLogger();

      logger.warn('config dump', {
        request: { headers: { 'x-api-key': API_KEY }, body: { keys: ['a', `prefix-${ADMIN_TOKEN}-suffix`] } },
        [`token:${ADMIN_TOKEN}`]: true,
      });

      const line = onlyLine();
      expect(line.request).toEqual({ headers: { 'x-api-key': REDACTED }, body: { keys: ['a', `prefix-${REDACTED}-suffix`] } });
      expect(line[`token:${REDACTED}`]).toBe(true);
      expectFreeOf(output(), [API_KEY, ADMIN_TOKEN]);
    });

    it('scrubs a whole JWT from the message and from a URL in a field, though it is not a configured secret', () => {
      const { logger, output, onlyLine } = recordingLogger();

      logger.info(`Cached token ${jwt} rejected`, { url: `https://license.test.example/verify?token=${jwt}&v=2` });

      const line = onlyLine();
      expect(line.msg).toBe(`Cached token ${REDACTED} rejected`);
      expect(line.url).toBe(`https://license.test.example/verify?token=${REDACTED}&v=2`);
      const [, payload = jwt, signature = jwt] = jwt.split('.');
      expectFreeOf(output(), [jwt, payload, signature]);
    });

    it('scrubs an unsecured JWT whose signature segment is empty', () => {
      const unsecured = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"tier":"enterprise"}').toString('base64url')}.`;
      const { logger, output } = recordingLogger();

      logger.warn(`Refused ${unsecured} as unsigned`);

      expectFreeOf(output(), [unsecured.slice(0, -1)]);
    });

    it('redacts fields named like credentials whatever they hold', () => {
      const { logger, onlyLine } = recordingLogger();

      logger.info('request', {
        apiKey: 'sk-not-configured-1',
        api_key: 'sk-not-configured-2',
        adminToken: 'not-configured-3',
        jwt: 'opaque-token',
        headers: { authorization: 'Basic dXNlcjpwYXNz' },
      });

      expect(onlyLine()).toMatchObject({
        apiKey: REDACTED,
        api_key: REDACTED,
        adminToken: REDACTED,
        jwt: REDACTED,
        headers: { authorization: REDACTED },
      });
    });

    it('scrubs secrets from an Error passed as err: message and stack, keeping the rest readable', () => {
      const { logger, output, onlyLine } = recordingLogger();

      logger.error('License resolution failed unexpectedly', { err: new Error(`backend said: bad key ${API_KEY}`) });

      const err = onlyLine().err as { type: string; message: string; stack: string };
      expect(err.type).toBe('Error');
      expect(err.message).toBe(`backend said: bad key ${REDACTED}`);
      expect(err.stack).toContain(`Error: backend said: bad key ${REDACTED}\n    at `);
      expectFreeOf(output(), [API_KEY]);
    });

    it('scrubs secrets from an error’s cause chain, its own properties and an AggregateError’s errors', () => {
      class BackendFailure extends Error {
        readonly responseBody = `{"token":"${jwt}"}`;
      }
      const { logger, output } = recordingLogger();

      logger.error('Periodic license refresh failed unexpectedly', {
        err: new AggregateError(
          [new BackendFailure('refresh failed', { cause: new Error(`Authorization: Bearer ${ADMIN_TOKEN}`) })],
          `two failures, first with ${API_KEY}`,
        ),
      });

      expect(output()).toContain(REDACTED);
      expect(output()).toContain('refresh failed');
      expectFreeOf(output(), [API_KEY, ADMIN_TOKEN, jwt]);
    });

    it('scrubs secrets from a thrown value that is not an Error', () => {
      const { logger, output, onlyLine } = recordingLogger();

      logger.error('Unexpected error while handling a request', { err: `string thrown with ${ADMIN_TOKEN}` });

      expect(onlyLine().err).toBe(`string thrown with ${REDACTED}`);
      expectFreeOf(output(), [ADMIN_TOKEN]);
    });

    it('scrubs every configured secret, including the static license JWT given as one', () => {
      const staticJwt = 'static.license.token-that-is-not-shaped-like-eyJ';
      const { logger, output } = recordingLogger({ gate: new TextGate([API_KEY, ADMIN_TOKEN, staticJwt]) });

      logger.info(`three: ${API_KEY} ${ADMIN_TOKEN} ${staticJwt}`);

      expectFreeOf(output(), [API_KEY, ADMIN_TOKEN, staticJwt]);
    });
  });

  describe('on the real stdout, configured from the environment', () => {
    const BUILT = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../../dist/${path}`, import.meta.url)));
    const script = `
      import { loadConfig } from ${BUILT('app/config.js')};
      import { textGateFor } from ${BUILT('app/create-license-agent.js')};
      import { PinoLogger } from ${BUILT('adapters/pino/pino-logger.js')};
      const config = loadConfig(process.env);
      const logger = new PinoLogger({ level: config.logLevel, gate: textGateFor(config) });
      logger.debug('debug line');
      logger.info('info line with ' + process.env.SOFTCLIENT4ES_API_KEY);
      logger.warn('warn line', { token: process.env.SOFTCLIENT4ES_ADMIN_TOKEN });
    `;

    async function run(env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number | null }> {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const [code] = (await once(child, 'exit')) as [number | null];
      return { stdout, stderr, code };
    }

    const secrets = { SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_ADMIN_TOKEN: ADMIN_TOKEN };

    it('prints JSON lines on stdout from info up by default, without the secrets', async () => {
      const { stdout, stderr, code } = await run(secrets);

      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const lines = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as LogLine);
      expect(lines.map((line) => line.msg)).toEqual([`info line with ${REDACTED}`, 'warn line']);
      expect(lines[1]?.token).toBe(REDACTED);
      expectFreeOf(stdout, [API_KEY, ADMIN_TOKEN]);
    });

    it('prints debug lines when LOG_LEVEL=debug', async () => {
      const { stdout } = await run({ ...secrets, LOG_LEVEL: 'debug' });

      expect(stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as LogLine).msg)).toEqual([
        'debug line',
        `info line with ${REDACTED}`,
        'warn line',
      ]);
    });

    it('prints only warnings and errors when LOG_LEVEL=warn', async () => {
      const { stdout } = await run({ ...secrets, LOG_LEVEL: 'warn' });

      expect(stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as LogLine).msg)).toEqual(['warn line']);
    });
  });
});
