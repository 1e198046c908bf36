/**
 * Errors the agent reasons about. Each family has stable codes that logs, the admin API and
 * metrics expose; adapters translate library failures into these so the domain never sees them.
 * Messages never contain secrets (API key, admin token, JWTs).
 */
export abstract class LicenseAgentError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export type LicenseTokenErrorCode =
  | 'LICENSE.MALFORMED'
  | 'LICENSE.TOO_LARGE'
  | 'LICENSE.ALGORITHM_REJECTED'
  | 'LICENSE.UNKNOWN_KEY'
  | 'LICENSE.SIGNATURE_INVALID'
  | 'LICENSE.ISSUER_MISMATCH'
  | 'LICENSE.CLAIMS_INVALID'
  | 'LICENSE.NOT_YET_VALID'
  | 'LICENSE.EXPIRED'
  | 'LICENSE.INSTANCE_MISMATCH';

/** A license JWT that must not be used. */
export class LicenseTokenError extends LicenseAgentError {
  constructor(
    readonly code: LicenseTokenErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type BackendErrorCode =
  | 'BACKEND.REJECTED'
  | 'BACKEND.UNREACHABLE'
  | 'BACKEND.TIMEOUT'
  | 'BACKEND.HTTP_STATUS'
  | 'BACKEND.REDIRECT_REFUSED'
  | 'BACKEND.RESPONSE_TOO_LARGE'
  | 'BACKEND.MALFORMED_RESPONSE';

/**
 * The license backend did not issue a token. Only `BACKEND.REJECTED` (HTTP 401) is definitive;
 * every other failure is transient and must not cost a still-valid license.
 */
export class BackendError extends LicenseAgentError {
  constructor(
    readonly code: BackendErrorCode,
    message: string,
    options?: {
      cause?: unknown;
      /** How long the backend asked us to wait (429/503 `Retry-After`), in milliseconds. */
      retryAfterMs?: number | null;
      /** HTTP status, when the backend answered. */
      status?: number | null;
    },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs ?? null;
    this.status = options?.status ?? null;
  }

  readonly retryAfterMs: number | null;
  readonly status: number | null;

  get transient(): boolean {
    return this.code !== 'BACKEND.REJECTED';
  }
}

export type ApiKeyErrorCode = 'API_KEY.MALFORMED';

export class ApiKeyError extends LicenseAgentError {
  readonly code: ApiKeyErrorCode = 'API_KEY.MALFORMED';
}

export type CacheErrorCode =
  | 'CACHE.CORRUPT'
  | 'CACHE.TOO_LARGE'
  | 'CACHE.UNSAFE_FILE'
  | 'CACHE.UNSAFE_DIRECTORY'
  | 'CACHE.IO_FAILED';

/** The license cache could not be read or written; callers treat the cache as absent. */
export class CacheError extends LicenseAgentError {
  constructor(
    readonly code: CacheErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type ErrorCode = LicenseTokenErrorCode | BackendErrorCode | ApiKeyErrorCode | CacheErrorCode;

/** Code and message of any failure, for logs and the status API; unknown errors get a generic code. */
export function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof LicenseAgentError) return { code: error.code, message: error.message };
  return { code: 'INTERNAL.UNEXPECTED', message: 'unexpected internal error' };
}
