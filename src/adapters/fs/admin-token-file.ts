import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createPrivateFile, ensurePrivateDirectory, readPrivateFile, restrictToOwner, writePrivateFile } from './private-files.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

const GENERATED_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface StoredAdminToken {
  readonly token: string;
  readonly path: string;
}

/**
 * The admin token generated for an operator who configured none: 32 random bytes in
 * `<cache dir>/admin-token` (mode 0600, restored if loosened), created once and reused across restarts.
 */
export async function loadOrCreateAdminToken(directory: string): Promise<StoredAdminToken> {
  const path = join(directory, ADMIN_TOKEN_FILE);
  const existing = (await readPrivateFile(path, 1024))?.toString('utf8').trim();
  if (existing !== undefined && GENERATED_TOKEN_PATTERN.test(existing)) {
    await restrictToOwner(path); // an operator's copy may have loosened it
    return { token: existing, path };
  }

  await ensurePrivateDirectory(directory);
  const token = randomBytes(32).toString('base64url');
  if (existing !== undefined) {
    await writePrivateFile(path, `${token}\n`); // unreadable content: replace it
    return { token, path };
  }
  if (await createPrivateFile(path, `${token}\n`)) return { token, path };
  return loadOrCreateAdminToken(directory); // another process created it first
}
