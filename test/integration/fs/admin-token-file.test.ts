import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN_FILE, loadOrCreateAdminToken } from '../../../src/adapters/fs/admin-token-file.js';
import { PrivateFileError } from '../../../src/adapters/fs/private-files.js';
import { StateDirectory, UntrustedDirectoryError } from '../../../src/adapters/fs/state-directory.js';
import { entriesOf, permissionsOf, withUmask } from '../../support/file-system.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

/** 32 random bytes, base64url without padding. */
const GENERATED_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const AN_EXISTING_TOKEN = 'Wq3vJ0cZ8mO1rT5yU7iP9aS2dF4gH6jK8lZ0xC1vB3n';

let root: string;
let cacheDir: string;
let logger: RecordingLogger;

beforeEach(() => {
  root = makeTempDir('admin-token-');
  cacheDir = join(root, 'cache');
  logger = new RecordingLogger();
});

afterEach(() => {
  removeTempDir(root);
});

const tokenFile = () => join(cacheDir, ADMIN_TOKEN_FILE);
const inDirectory = (dir = cacheDir) => new StateDirectory(dir, logger);

function writeTokenFile(content: string, mode = 0o600): void {
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  writeFileSync(tokenFile(), content, { mode });
  chmodSync(tokenFile(), mode);
}

describe('loadOrCreateAdminToken', () => {
  it('generates a 32-byte token into <cache dir>/admin-token, mode 0600 in a 0700 directory, even with umask 0', async () => {
    const { token, path } = await withUmask(() => loadOrCreateAdminToken(inDirectory()));

    expect(path).toBe(join(cacheDir, 'admin-token'));
    expect(token).toMatch(GENERATED_TOKEN);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(readFileSync(path, 'utf8')).toBe(`${token}\n`);
    expect(permissionsOf(path)).toBe(0o600);
    expect(permissionsOf(cacheDir)).toBe(0o700);
    expect(entriesOf(cacheDir)).toEqual(['admin-token']);
  });

  it('generates a different token for each installation', async () => {
    const tokens = new Set<string>();
    for (let index = 0; index < 5; index += 1) tokens.add((await loadOrCreateAdminToken(inDirectory(join(root, `install-${index}`)))).token);

    expect(tokens.size).toBe(5);
  });

  it('reuses the stored token on the next start and never rewrites the file', async () => {
    const first = await loadOrCreateAdminToken(inDirectory());
    const stored = readFileSync(first.path, 'utf8');

    const second = await loadOrCreateAdminToken(inDirectory());
    const third = await loadOrCreateAdminToken(inDirectory());

    expect(second.token).toBe(first.token);
    expect(third.token).toBe(first.token);
    expect(readFileSync(first.path, 'utf8')).toBe(stored);
  });

  it('gives processes starting together the same token', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateAdminToken(inDirectory())));

    expect(new Set(results.map((result) => result.token)).size).toBe(1);
    expect(readFileSync(tokenFile(), 'utf8')).toBe(`${results[0]?.token}\n`);
    expect(entriesOf(cacheDir)).toEqual(['admin-token']);
  });

  it('reuses a well-formed stored token written without the trailing newline', async () => {
    writeTokenFile(AN_EXISTING_TOKEN);

    const { token } = await loadOrCreateAdminToken(inDirectory());

    expect(token).toBe(AN_EXISTING_TOKEN);
  });

  it('reuses a well-formed stored token whose file was loosened, restoring mode 0600', async () => {
    writeTokenFile(`${AN_EXISTING_TOKEN}\n`, 0o644);

    const { token } = await loadOrCreateAdminToken(inDirectory());

    expect(token).toBe(AN_EXISTING_TOKEN);
    expect(permissionsOf(tokenFile())).toBe(0o600);
  });

  it.each([
    ['a weak hand-written token', 'changeme\n'],
    ['an empty file', ''],
    ['a token one character short', `${AN_EXISTING_TOKEN.slice(1)}\n`],
  ])('replaces %s with a generated token, atomically and mode 0600', async (_case, content) => {
    writeTokenFile(content, 0o644);

    const { token } = await loadOrCreateAdminToken(inDirectory());

    expect(token).toMatch(GENERATED_TOKEN);
    expect(readFileSync(tokenFile(), 'utf8')).toBe(`${token}\n`);
    expect(permissionsOf(tokenFile())).toBe(0o600);
    expect(entriesOf(cacheDir)).toEqual(['admin-token']);
  });

  it('refuses a symbolic link planted at admin-token, and neither reads nor writes its target', async () => {
    mkdirSync(cacheDir, { mode: 0o700 });
    const target = join(root, 'attacker-chosen');
    writeFileSync(target, `${AN_EXISTING_TOKEN}\n`);
    symlinkSync(target, tokenFile());

    await expect(loadOrCreateAdminToken(inDirectory())).rejects.toThrow(PrivateFileError);

    expect(readFileSync(target, 'utf8')).toBe(`${AN_EXISTING_TOKEN}\n`);
  });

  it('refuses a dangling symbolic link at admin-token instead of creating its target', async () => {
    mkdirSync(cacheDir, { mode: 0o700 });
    const target = join(root, 'would-be-created');
    symlinkSync(target, tokenFile());

    await expect(loadOrCreateAdminToken(inDirectory())).rejects.toThrow(PrivateFileError);

    expect(existsSync(target)).toBe(false);
  });

  it.each<[string, () => void]>([
    ['owned by another user', () => chownSync(cacheDir, 65534, 65534)],
    ['writable by others', () => chmodSync(cacheDir, 0o1777)],
  ])('neither adopts nor replaces a token planted in a cache directory %s', async (_case, loosen) => {
    writeTokenFile(`${AN_EXISTING_TOKEN}\n`, 0o644);
    loosen();

    await expect(loadOrCreateAdminToken(inDirectory())).rejects.toThrow(UntrustedDirectoryError);

    expect(readFileSync(tokenFile(), 'utf8')).toBe(`${AN_EXISTING_TOKEN}\n`);
    expect(permissionsOf(tokenFile())).toBe(0o644);
  });

  it('logs (WARN) restoring mode 0600 on a loosened token file, and replacing one with no usable token', async () => {
    writeTokenFile(`${AN_EXISTING_TOKEN}\n`, 0o644);
    await loadOrCreateAdminToken(inDirectory());
    writeTokenFile('changeme\n', 0o600);
    await loadOrCreateAdminToken(inDirectory());

    expect(logger.entries).toEqual([
      { level: 'warn', message: `Restored mode 0600 on ${tokenFile()} (was 0644)`, fields: { path: tokenFile() } },
      { level: 'warn', message: `Replaced ${tokenFile()}, which held no usable token`, fields: { path: tokenFile() } },
    ]);
  });

  it('refuses an oversized admin-token file instead of reading it', async () => {
    writeTokenFile('x'.repeat(4096));

    await expect(loadOrCreateAdminToken(inDirectory())).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });
});
