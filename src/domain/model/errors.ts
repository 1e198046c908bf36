import type { QuotaName } from './quota.js';
import { trusted, type SafeText, type TextGate } from './safe-text.js';

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
  | 'LICENSE.INSTANCE_MISMATCH'
  | 'LICENSE.SUPERSEDED';

/**
 * Whether a rejection says something about the token itself (`intrinsic`: it will never verify,
 * here or anywhere) or only about local conditions (`local`: the clock, or the trusted keys and
 * issuer configured). Only intrinsic verdicts justify an irreversible action such as moving a
 * cached token aside (DESIGN §8, amended 2026-11-30).
 */
export type RejectionKind = 'intrinsic' | 'local';

const LOCAL_REJECTIONS: ReadonlySet<LicenseTokenErrorCode> = new Set([
  'LICENSE.NOT_YET_VALID',
  'LICENSE.EXPIRED',
  'LICENSE.UNKNOWN_KEY',
  'LICENSE.ISSUER_MISMATCH',
]);

/** A license JWT that must not be used. */
export class LicenseTokenError extends LicenseAgentError {
  constructor(
    readonly code: LicenseTokenErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get kind(): RejectionKind {
    return LOCAL_REJECTIONS.has(this.code) ? 'local' : 'intrinsic';
  }
}

export type BackendErrorCode =
  | 'BACKEND.REJECTED'
  | 'BACKEND.UNREACHABLE'
  | 'BACKEND.TIMEOUT'
  | 'BACKEND.HTTP_STATUS'
  | 'BACKEND.UNEXPECTED_STATUS'
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
  | 'CACHE.IO_FAILED'
  | 'CACHE.TIMEOUT';

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

/**
 * The cache directory is not used (another owner, writable by others): said once, at WARN, where
 * the directory is checked. Every later failure for that reason is a consequence, logged at DEBUG.
 */
export function isUnsafeDirectory(error: unknown): boolean {
  return error instanceof CacheError && error.code === 'CACHE.UNSAFE_DIRECTORY';
}

export type FleetErrorCode = 'FLEET.UNREACHABLE' | 'FLEET.CORRUPT' | 'FLEET.TOO_LARGE' | 'FLEET.NO_LEADER';

/** The fleet store (Redis) could not be used, or holds something that is not a license record. */
export class FleetError extends LicenseAgentError {
  constructor(
    readonly code: FleetErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type QuotaErrorCode = 'QUOTA.EXCEEDED';

/**
 * A usage quota refused an acquisition (`agent.usage(quota).acquire(k)`): `current + requested`
 * would exceed `limit`. Carries the numbers a host needs to answer its own client.
 */
export class QuotaExceededError extends LicenseAgentError {
  readonly code: QuotaErrorCode = 'QUOTA.EXCEEDED';

  constructor(
    readonly quota: QuotaName,
    readonly current: number,
    readonly requested: number,
    readonly limit: number,
  ) {
    super(`${quota} is limited to ${limit}; ${current} in use, ${requested} more requested`);
  }
}

export type ErrorCode = LicenseTokenErrorCode | BackendErrorCode | ApiKeyErrorCode | CacheErrorCode | FleetErrorCode | QuotaErrorCode;

/** A failure as every output shows it: a stable code and a message that passed the text gate. */
export interface Failure {
  readonly code: SafeText;
  readonly message: SafeText;
}

/**
 * Log fields for a failure: its code, and for an error the agent does not know (a plugin's bug, a
 * library's surprise) the error itself, so that its own code, message and stack reach the log.
 */
export function failureFields(error: unknown, failure: Failure): Readonly<Record<string, unknown>> {
  return error instanceof LicenseAgentError ? { code: failure.code } : { code: failure.code, err: error };
}

/**
 * Code and message of any failure, for logs, the status API and metrics, through the text gate
 * (messages quote backend answers and token headers); unknown errors get a generic code.
 */
export function describeFailure(error: unknown, gate: TextGate): Failure {
  if (error instanceof LicenseAgentError) return { code: gate.pass(error.code, 64), message: gate.pass(error.message) };
  return { code: trusted('INTERNAL.UNEXPECTED'), message: trusted('unexpected internal error') };
}
