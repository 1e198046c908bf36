import { BoundedFileError, readBoundedRegularFile } from '../../adapters/fs/bounded-file.js';
import { TrustedKeysError } from '../../adapters/jose/trusted-keys.error.js';
import { parseApiKey } from '../../domain/model/api-key.js';
import { LicenseAgentError } from '../../domain/model/errors.js';
import type { CurrentLicenseSources, LicenseSources } from '../../domain/model/license-sources.js';
import { trusted, type SafeText, type TextGate } from '../../domain/model/safe-text.js';
import type { RefreshLicense, RefreshOutcome } from '../../domain/refresh/refresh-license.js';
import type { Clock } from '../../ports/clock.port.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { MAX_SECRET_FILE_BYTES, type AgentConfig } from '../config.js';
import { ReloadableLicenseVerifier } from './reloadable-license-verifier.js';

export type ReloadResult =
  | { readonly kind: 'reloaded'; readonly changed: readonly string[]; readonly outcome: RefreshOutcome }
  /** A file could not be used: everything read before stays in force. */
  | { readonly kind: 'failed'; readonly error: SafeText };

export interface ReloadStatus {
  readonly lastAt: Date | null;
  /** Why the last reload kept the previous set; null after a successful one (or none). */
  readonly lastError: SafeText | null;
}

export interface ConfigurationReloadParts {
  readonly config: AgentConfig;
  readonly sources: CurrentLicenseSources;
  readonly verifier: LicenseVerifier;
  readonly refresh: RefreshLicense;
  /** The admin token in force at start-up (configured, read from its file, or generated). */
  readonly adminToken: string | null;
  /** Makes a new secret unprintable before anything can print it (the text gate, the logger). */
  readonly addSecret: (secret: string) => void;
  readonly gate: TextGate;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A problem with one file: the variable and path that name it, never its content. */
class ReloadError extends Error {}

/**
 * A reload (SIGHUP): reads again the secret files (`SOFTCLIENT4ES_API_KEY_FILE`,
 * `SOFTCLIENT4ES_LICENSE_KEY_FILE`, `SOFTCLIENT4ES_ADMIN_TOKEN_FILE`) and the trusted keys
 * (`SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS`, `SOFTCLIENT4ES_LICENSE_PUBLIC_KEY`, the bundled set).
 * Everything is read and checked first — a readable non-empty file, a well-formed API key, usable
 * keys, a static license that verifies under the new keys — and only a set that passes replaces
 * the old one, all of it in one step; then the resolution runs again. One bad file keeps the whole
 * previous set (ERROR, and the status says why). Reloads run one at a time.
 */
export class ConfigurationReload {
  #status: ReloadStatus = { lastAt: null, lastError: null };
  #adminToken: string | null;

  constructor(private readonly parts: ConfigurationReloadParts) {
    this.#adminToken = parts.adminToken;
  }

  /** The admin token in force: the one read at start-up, or from `SOFTCLIENT4ES_ADMIN_TOKEN_FILE` at the last reload. */
  adminToken(): string | null {
    return this.#adminToken;
  }

  status(): ReloadStatus {
    return this.#status;
  }

  async execute(): Promise<ReloadResult> {
    // One change of the license sources at a time, reloads and runtime installs alike: a reload
    // that read the set before an install or a removal must not undo it when it commits.
    const change = await this.parts.sources.exclusive(() => this.#reload());
    if (change.kind === 'failed') return change;
    return { ...change, outcome: await this.parts.refresh.executeAfterChange() };
  }

  async #reload(): Promise<Exclude<ReloadResult, { kind: 'reloaded' }> | { readonly kind: 'reloaded'; readonly changed: readonly string[] }> {
    const { sources, verifier, logger, gate, clock } = this.parts;
    logger.info('Reloading the license configuration (secret files and trusted keys)');
    let prepared: Prepared;
    try {
      prepared = await this.#prepare();
    } catch (error) {
      const known = error instanceof ReloadError || error instanceof TrustedKeysError || error instanceof LicenseAgentError;
      // An unexpected error (a bug, a plugin's) is said in the status too, then thrown on: the
      // status must never show an earlier good reload after one that failed.
      const message = known ? gate.pass(error.message) : trusted('unexpected internal error (see the log)');
      if (!known) {
        this.#status = { lastAt: clock.now(), lastError: message };
        throw error;
      }
      this.#status = { lastAt: clock.now(), lastError: message };
      logger.error(`Reload failed; the previous configuration stays in force: ${message}`);
      return { kind: 'failed', error: message };
    }
    // Commit: nothing below awaits, so no verification or request sees half of the new set.
    const previous = sources.current();
    const changed = [
      ...changedFiles(previous, prepared.sources, this.#adminToken, prepared.adminToken),
      ...(prepared.verifier !== null && !sameKeyIds(verifier.trustedKeyIds, prepared.verifier.trustedKeyIds) ? ['trusted keys'] : []),
    ];
    for (const secret of [prepared.sources.apiKey, prepared.sources.staticLicenseJwt, prepared.adminToken]) {
      if (secret !== null) this.parts.addSecret(secret);
    }
    sources.update({ apiKey: prepared.sources.apiKey, staticLicenseJwt: prepared.sources.staticLicenseJwt }); // the installed license is not a reload's
    if (prepared.verifier !== null && verifier instanceof ReloadableLicenseVerifier) verifier.replace(prepared.verifier);
    this.#adminToken = prepared.adminToken;
    this.#status = { lastAt: clock.now(), lastError: null };
    logger.info(`Reloaded the license configuration${changed.length === 0 ? ': nothing changed' : `: ${changed.join(', ')} changed`}`, {
      changed,
      trusted_key_ids: prepared.verifier?.trustedKeyIds ?? null,
    });
    return { kind: 'reloaded', changed };
  }

  async #prepare(): Promise<Prepared> {
    const { config, sources, verifier } = this.parts;
    const files = config.secretFiles;
    const current = sources.current();
    const apiKey = files.apiKey === null ? current.apiKey : await readSecretFile('SOFTCLIENT4ES_API_KEY_FILE', files.apiKey);
    if (apiKey !== null && apiKey !== current.apiKey) parseApiKey(apiKey); // a malformed key is a bad file here
    const staticLicenseJwt = files.staticLicenseJwt === null ? current.staticLicenseJwt : await readSecretFile('SOFTCLIENT4ES_LICENSE_KEY_FILE', files.staticLicenseJwt);
    const adminToken = files.adminToken === null ? this.#adminToken : await readSecretFile('SOFTCLIENT4ES_ADMIN_TOKEN_FILE', files.adminToken);
    const nextVerifier = verifier instanceof ReloadableLicenseVerifier ? await verifier.prepare() : null;
    if (staticLicenseJwt !== null && staticLicenseJwt !== current.staticLicenseJwt) {
      try {
        await (nextVerifier ?? verifier).verify(staticLicenseJwt);
      } catch (error) {
        if (!(error instanceof LicenseAgentError)) throw error;
        throw new ReloadError(`SOFTCLIENT4ES_LICENSE_KEY_FILE (${files.staticLicenseJwt}): the license does not verify (${error.code}: ${error.message})`);
      }
    }
    return { sources: { ...current, apiKey, staticLicenseJwt }, verifier: nextVerifier, adminToken };
  }
}

interface Prepared {
  readonly sources: LicenseSources;
  /** Null when the verifier in force cannot be rebuilt (a host's own verifier module). */
  readonly verifier: LicenseVerifier | null;
  readonly adminToken: string | null;
}

async function readSecretFile(variable: string, path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readBoundedRegularFile(path, MAX_SECRET_FILE_BYTES);
  } catch (error) {
    if (error instanceof BoundedFileError) throw new ReloadError(`${variable} (${path}): ${error.reason}`);
    throw error;
  }
  const value = bytes.toString('utf8').trim();
  if (value === '') throw new ReloadError(`${variable} (${path}): the file is empty`);
  return value;
}

/** Which secret files a reload found changed, by variable name (never their values). */
function changedFiles(before: LicenseSources, after: LicenseSources, adminBefore: string | null, adminAfter: string | null): string[] {
  return [
    before.apiKey !== after.apiKey && 'SOFTCLIENT4ES_API_KEY_FILE',
    before.staticLicenseJwt !== after.staticLicenseJwt && 'SOFTCLIENT4ES_LICENSE_KEY_FILE',
    adminBefore !== adminAfter && 'SOFTCLIENT4ES_ADMIN_TOKEN_FILE',
  ].filter((name): name is string => name !== false);
}

/** Whether two sets of trusted key ids are the same (order aside); unknown counts as changed. */
function sameKeyIds(before: readonly string[] | undefined, after: readonly string[] | undefined): boolean {
  if (before === undefined || after === undefined) return before === after;
  return before.length === after.length && before.every((kid) => after.includes(kid));
}
