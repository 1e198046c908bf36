import { describe, expect, it } from '@jest/globals';
import {
  ApiKeyError,
  BackendError,
  CacheError,
  describeFailure,
  failureFields,
  FleetError,
  LicenseTokenError,
  type LicenseTokenErrorCode,
} from '../../../src/domain/model/errors.js';
import { REDACTED, TextGate } from '../../../src/domain/model/safe-text.js';

const SECRET = 'sk-live-0123456789abcdef';
const gate = new TextGate([SECRET]);

describe('typed errors', () => {
  it('carry their class name, their code and their cause', () => {
    const cause = new Error('EACCES');
    const errors = [
      new LicenseTokenError('LICENSE.MALFORMED', 'm', { cause }),
      new BackendError('BACKEND.TIMEOUT', 'm', { cause }),
      new ApiKeyError('m', { cause }),
      new CacheError('CACHE.IO_FAILED', 'm', { cause }),
      new FleetError('FLEET.UNREACHABLE', 'm', { cause }),
    ];
    expect(errors.map((error) => [error.name, error.code, error.cause])).toEqual([
      ['LicenseTokenError', 'LICENSE.MALFORMED', cause],
      ['BackendError', 'BACKEND.TIMEOUT', cause],
      ['ApiKeyError', 'API_KEY.MALFORMED', cause],
      ['CacheError', 'CACHE.IO_FAILED', cause],
      ['FleetError', 'FLEET.UNREACHABLE', cause],
    ]);
  });

  it.each<[LicenseTokenErrorCode, 'intrinsic' | 'local']>([
    ['LICENSE.NOT_YET_VALID', 'local'],
    ['LICENSE.EXPIRED', 'local'],
    ['LICENSE.UNKNOWN_KEY', 'local'],
    ['LICENSE.ISSUER_MISMATCH', 'local'],
    ['LICENSE.MALFORMED', 'intrinsic'],
    ['LICENSE.TOO_LARGE', 'intrinsic'],
    ['LICENSE.ALGORITHM_REJECTED', 'intrinsic'],
    ['LICENSE.SIGNATURE_INVALID', 'intrinsic'],
    ['LICENSE.CLAIMS_INVALID', 'intrinsic'],
    ['LICENSE.INSTANCE_MISMATCH', 'intrinsic'],
    ['LICENSE.SUPERSEDED', 'intrinsic'],
  ])('a token refused with %s is a %s verdict', (code, kind) => {
    expect(new LicenseTokenError(code, 'refused').kind).toBe(kind);
  });

  it('only a rejection of the key by the backend is definitive; the status and Retry-After are kept when given', () => {
    expect(new BackendError('BACKEND.REJECTED', 'revoked', { status: 401 })).toMatchObject({ transient: false, status: 401, retryAfterMs: null });
    expect(new BackendError('BACKEND.HTTP_STATUS', 'busy', { status: 503, retryAfterMs: 30_000 })).toMatchObject({
      transient: true,
      status: 503,
      retryAfterMs: 30_000,
    });
    expect(new BackendError('BACKEND.UNREACHABLE', 'refused')).toMatchObject({ transient: true, status: null, retryAfterMs: null });
  });
});

describe('describeFailure', () => {
  it('gives the code and the message of an agent error through the text gate', () => {
    const failure = describeFailure(new BackendError('BACKEND.REJECTED', `The API key ${SECRET} was revoked\nfor good`), gate);
    expect(failure).toEqual({ code: 'BACKEND.REJECTED', message: `The API key ${REDACTED} was revoked for good` });
  });

  it('gives a generic code and message for an error the agent does not know, quoting nothing of it', () => {
    expect(describeFailure(new TypeError(`boom ${SECRET}`), gate)).toEqual({ code: 'INTERNAL.UNEXPECTED', message: 'unexpected internal error' });
    expect(describeFailure('a thrown string', gate)).toEqual({ code: 'INTERNAL.UNEXPECTED', message: 'unexpected internal error' });
  });
});

describe('failureFields', () => {
  it('logs only the code of an agent error, and an unknown error whole so that its stack reaches the log', () => {
    const known = new CacheError('CACHE.CORRUPT', 'not JSON');
    expect(failureFields(known, describeFailure(known, gate))).toEqual({ code: 'CACHE.CORRUPT' });

    const unknown = new RangeError('a plugin bug');
    expect(failureFields(unknown, describeFailure(unknown, gate))).toEqual({ code: 'INTERNAL.UNEXPECTED', err: unknown });
  });
});
