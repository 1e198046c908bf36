import { BackendError, LicenseTokenError, type BackendErrorCode, type LicenseTokenErrorCode } from '../../domain/model/errors.js';
import type { RefreshRelay, RelayedRefresh } from '../../ports/refresh-relay.port.js';
import type { SharedLicenseStore } from '../../ports/shared-license-store.port.js';
import type { IssuedToken, TokenBackend, TokenRequest } from '../../ports/token-backend.port.js';
import type { FleetState } from './fleet-state.js';

const BACKEND_CODES: readonly BackendErrorCode[] = [
  'BACKEND.REJECTED',
  'BACKEND.UNREACHABLE',
  'BACKEND.TIMEOUT',
  'BACKEND.HTTP_STATUS',
  'BACKEND.UNEXPECTED_STATUS',
  'BACKEND.REDIRECT_REFUSED',
  'BACKEND.RESPONSE_TOO_LARGE',
  'BACKEND.MALFORMED_RESPONSE',
];
const TOKEN_CODES: readonly LicenseTokenErrorCode[] = [
  'LICENSE.MALFORMED',
  'LICENSE.TOO_LARGE',
  'LICENSE.ALGORITHM_REJECTED',
  'LICENSE.UNKNOWN_KEY',
  'LICENSE.SIGNATURE_INVALID',
  'LICENSE.ISSUER_MISMATCH',
  'LICENSE.CLAIMS_INVALID',
  'LICENSE.NOT_YET_VALID',
  'LICENSE.EXPIRED',
  'LICENSE.INSTANCE_MISMATCH',
  'LICENSE.SUPERSEDED',
];

/**
 * The license backend as a fleet member sees it. The lease holder, and a member cut off from the
 * fleet (standalone), call the backend. A follower never does: its refresh (start-up with nothing
 * to adopt, or forced by an operator) is carried out by the lease holder through the relay, and it
 * gets the holder's outcome — the license the holder published (verified here like any backend
 * answer) or the holder's failure, with its code.
 */
export class FleetTokenBackend implements TokenBackend {
  constructor(
    private readonly backend: TokenBackend,
    private readonly fleet: FleetState,
    private readonly relay: RefreshRelay,
    private readonly store: SharedLicenseStore,
    private readonly forwardTimeoutMs: number,
  ) {}

  async requestToken(request: TokenRequest): Promise<IssuedToken> {
    if (this.fleet.role !== 'follower') return this.backend.requestToken(request);
    const reply = await this.relay.forward(this.forwardTimeoutMs);
    if (reply === null) {
      throw new BackendError('BACKEND.UNREACHABLE', `no fleet lease holder answered the refresh within ${this.forwardTimeoutMs / 1000} s`);
    }
    if (reply.status === 'failed') throw holderFailure(reply);
    const shared = await this.store.load();
    if (shared === null) throw new BackendError('BACKEND.MALFORMED_RESPONSE', 'the fleet lease holder refreshed, but the fleet holds no license');
    return { jwt: shared.jwt, expiresInSeconds: null, message: null };
  }
}

/** The holder's failure as the error it was, so that this member's resolution treats it alike (a 401 stays definitive). */
function holderFailure({ code, message }: RelayedRefresh): Error {
  const text = `the fleet lease holder's refresh failed: ${message ?? 'no reason given'}`;
  const tokenCode = TOKEN_CODES.find((known) => known === code);
  if (tokenCode !== undefined) return new LicenseTokenError(tokenCode, text);
  const backendCode = BACKEND_CODES.find((known) => known === code) ?? 'BACKEND.UNEXPECTED_STATUS';
  return new BackendError(backendCode, text, { status: backendCode === 'BACKEND.REJECTED' ? 401 : null });
}
