import type { ApiKey } from '../domain/model/api-key.js';
import type { SafeText } from '../domain/model/safe-text.js';
import type { UsageReport } from '../domain/telemetry/usage-counters.js';

export interface TokenRequest {
  readonly apiKey: ApiKey;
  readonly instanceId: string;
  readonly agentVersion: string;
  /** The usage counters sent along (DESIGN §12); absent when telemetry is off. */
  readonly usage?: UsageReport;
}

/** What the backend issued; the JWT is still unverified. */
export interface IssuedToken {
  readonly jwt: string;
  /** Advisory: the JWT's own `exp` rules. Null when the backend gave no usable value. */
  readonly expiresInSeconds: number | null;
  /** A note for the operator, logged at INFO; already through the text gate. */
  readonly message: SafeText | null;
}

/**
 * Exchanges an API key for a license JWT.
 * Fails with `BackendError`: `BACKEND.REJECTED` (401 with the backend's JSON error, definitive)
 * or a transient code. Text from the backend passes the text gate before it is kept anywhere.
 */
export interface TokenBackend {
  requestToken(request: TokenRequest): Promise<IssuedToken>;
}
