import type { ApiKey } from '../domain/model/api-key.js';

export interface TokenRequest {
  readonly apiKey: ApiKey;
  readonly instanceId: string;
  readonly agentVersion: string;
}

/** What the backend issued; the JWT is still unverified. */
export interface IssuedToken {
  readonly jwt: string;
  readonly expiresInSeconds: number | null;
  /** A note for the operator, logged at INFO. */
  readonly message: string | null;
}

/**
 * Exchanges an API key for a license JWT.
 * Fails with `BackendError`: `BACKEND.REJECTED` (401, definitive) or a transient code.
 */
export interface TokenBackend {
  requestToken(request: TokenRequest): Promise<IssuedToken>;
}
