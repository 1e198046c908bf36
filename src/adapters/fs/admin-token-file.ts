import { randomBytes } from 'node:crypto';
import type { StateDirectory } from './state-directory.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

const GENERATED_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface StoredAdminToken {
  readonly token: string;
  readonly path: string;
}

/**
 * The admin token generated for an operator who configured none: 32 random bytes in
 * `<cache dir>/admin-token` (mode 0600), created once and reused across restarts. A loosened mode
 * is restored and a file holding no usable token is replaced, both with a WARN. Rejects with the
 * directory's errors (`UntrustedDirectoryError` among them: nothing planted is adopted) and
 * `PrivateFileError` (a link, a FIFO, an oversized file).
 */
export async function loadOrCreateAdminToken(directory: StateDirectory): Promise<StoredAdminToken> {
  const path = directory.pathOf(ADMIN_TOKEN_FILE);
  const existing = (await directory.read(ADMIN_TOKEN_FILE, 1024))?.toString('utf8').trim();
  if (existing !== undefined && GENERATED_TOKEN_PATTERN.test(existing)) {
    await directory.restrictToOwner(ADMIN_TOKEN_FILE); // an operator's copy may have loosened it
    return { token: existing, path };
  }

  const token = randomBytes(32).toString('base64url');
  if (existing !== undefined) {
    await directory.write(ADMIN_TOKEN_FILE, `${token}\n`, 'held no usable token');
    return { token, path };
  }
  if (await directory.create(ADMIN_TOKEN_FILE, `${token}\n`)) return { token, path };
  return loadOrCreateAdminToken(directory); // another process created it first
}
