import { describe, expect, it } from '@jest/globals';
import { ResolutionTrail } from '../../../src/domain/model/resolution-trail.js';
import { trusted } from '../../../src/domain/model/safe-text.js';

const failure = (code: string) => ({ code: trusted(code), message: trusted(`${code} happened`) });

describe('ResolutionTrail', () => {
  it('records every attempt in order, with its code and message', () => {
    const trail = new ResolutionTrail();
    trail.skipped('static', trusted('no static license configured'));
    trail.failed('api_key', failure('BACKEND.TIMEOUT'), { transient: true });
    trail.failed('cache', failure('CACHE.CORRUPT'));
    trail.used('community');
    trail.used('cache', trusted('kept'));

    expect(trail.attempts()).toEqual([
      { source: 'static', outcome: 'skipped', code: null, message: 'no static license configured' },
      { source: 'api_key', outcome: 'failed', code: 'BACKEND.TIMEOUT', message: 'BACKEND.TIMEOUT happened' },
      { source: 'cache', outcome: 'failed', code: 'CACHE.CORRUPT', message: 'CACHE.CORRUPT happened' },
      { source: 'community', outcome: 'used', code: null, message: null },
      { source: 'cache', outcome: 'used', code: null, message: 'kept' },
    ]);
  });

  it('hands out frozen copies: a later attempt does not change what was handed out', () => {
    const trail = new ResolutionTrail();
    trail.used('static');
    const first = trail.attempts();
    trail.used('community');

    expect(first).toHaveLength(1);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first[0])).toBe(true);
    expect(trail.attempts()).toHaveLength(2);
  });

  it('the backend failure is the failed API-key step, and only it', () => {
    const trail = new ResolutionTrail();
    expect(trail.backendFailure).toBeUndefined();
    trail.used('api_key');
    trail.failed('cache', failure('CACHE.CORRUPT'));
    expect(trail.backendFailure).toBeUndefined();
    trail.failed('api_key', failure('BACKEND.REJECTED'));
    expect(trail.backendFailure).toMatchObject({ source: 'api_key', outcome: 'failed', code: 'BACKEND.REJECTED' });
  });

  it('keeps transience and Retry-After of the API-key step only; unsaid, a failure is definitive with no wait', () => {
    const trail = new ResolutionTrail();
    expect([trail.backendFailedTransiently, trail.backendRetryAfterMs]).toEqual([false, null]);

    trail.failed('static', failure('LICENSE.EXPIRED'), { transient: true, retryAfterMs: 5 });
    trail.failed('cache', failure('CACHE.IO_FAILED'), { transient: true, retryAfterMs: 5 });
    expect([trail.backendFailedTransiently, trail.backendRetryAfterMs]).toEqual([false, null]);

    trail.failed('api_key', failure('BACKEND.HTTP_STATUS'), { transient: true, retryAfterMs: 30_000 });
    expect([trail.backendFailedTransiently, trail.backendRetryAfterMs]).toEqual([true, 30_000]);

    const unsaid = new ResolutionTrail();
    unsaid.failed('api_key', failure('BACKEND.REJECTED'));
    expect([unsaid.backendFailedTransiently, unsaid.backendRetryAfterMs]).toEqual([false, null]);
  });
});
