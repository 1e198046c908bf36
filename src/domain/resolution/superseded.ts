import type { TrustedTime } from '../../ports/trusted-time.port.js';
import { LicenseTokenError } from '../model/errors.js';
import type { VerifiedLicenseToken } from '../model/license.js';

/**
 * Never an older token (DESIGN §3, amended 2026-11-30): a backend answer or a cache file issued
 * before the newest backend token this installation accepted is refused, so that a stale replica
 * or a restored old cache file cannot bring back a tier that was since changed. The same token
 * again (equal `iat`) is fine. Throws `LICENSE.SUPERSEDED`.
 */
export function assertNotSuperseded(token: VerifiedLicenseToken, trustedTime: TrustedTime): void {
  const newest = trustedTime.newestBackendIssuedAt();
  if (newest !== null && token.claims.issuedAt.getTime() < newest.getTime()) {
    throw new LicenseTokenError(
      'LICENSE.SUPERSEDED',
      `license token issued at ${token.claims.issuedAt.toISOString()} is older than one already accepted (issued at ${newest.toISOString()})`,
    );
  }
}
