import { describe, expect, it } from '@jest/globals';
import { GatedLogger } from '../../../src/app/gated-logger.js';
import { TextGate } from '../../../src/domain/model/safe-text.js';
import { RecordingLogger } from '../../support/recording-logger.js';

const API_KEY = 'sk-live-0123456789abcdef';

function setUp() {
  const inner = new RecordingLogger();
  return { inner, logger: new GatedLogger(inner, new TextGate([API_KEY])) };
}

describe('GatedLogger', () => {
  it.each(['debug', 'info', 'warn', 'error'] as const)('passes the %s message through the text gate', (level) => {
    const { inner, logger } = setUp();
    logger[level](`key ${API_KEY}\u2028forged line\u202e`);
    expect(inner.entries).toEqual([{ level, message: 'key [REDACTED] forged line', fields: {} }]);
  });

  it('passes string fields, nested objects, arrays and keys through the gate, leaving other values alone', () => {
    const { inner, logger } = setUp();
    const at = new Date('2026-06-01T00:00:00Z');
    logger.warn('m', { a: `x${API_KEY}`, n: 3, ok: true, at, nested: { list: ['eyJa.b.c', null], [API_KEY]: 1 } });
    expect(inner.entries[0]?.fields).toEqual({ a: 'x[REDACTED]', n: 3, ok: true, at, nested: { list: ['[REDACTED]', null], '[REDACTED]': 1 } });
  });

  it('serialises an error with its code, stack and cause, all through the gate', () => {
    const { inner, logger } = setUp();
    const cause = new Error(`inner ${API_KEY}`);
    const error = Object.assign(new Error(`outer ${API_KEY}`, { cause }), { code: 'EACCES' });
    logger.error('failed', { err: error });
    const fields = inner.entries[0]?.fields as { err: Record<string, unknown> };
    expect(fields.err).toMatchObject({ type: 'Error', message: 'outer [REDACTED]', code: 'EACCES', cause: { message: 'inner [REDACTED]' } });
    expect(JSON.stringify(fields)).not.toContain(API_KEY);
    expect(String(fields.err.stack)).toContain('outer [REDACTED]');
  });

  it('stops at a depth, so that a cyclic object cannot hang a log call', () => {
    const { inner, logger } = setUp();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    logger.info('m', { cyclic });
    expect(JSON.stringify(inner.entries[0]?.fields)).toContain('[nested too deep]');
  });
});
