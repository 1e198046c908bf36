import { randomUUID } from 'node:crypto';
import { Low } from 'lowdb';
import type { HostFingerprint } from '../../ports/host-fingerprint.port.js';
import type { InstanceIdStore } from '../../ports/instance-id-store.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { PrivateFileError } from '../fs/private-files.js';
import { UntrustedDirectoryError, type StateDirectory } from '../fs/state-directory.js';
import { CorruptFileError, PrivateJsonFile } from './private-json-file.js';

export const INSTANCE_ID_FILE = 'instance.json';
/** The original product's instance id file: a UUID as plain text, adopted when `instance.json` is absent, never written. */
export const LEGACY_INSTANCE_ID_FILE = 'instance-id';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;

/** What to do with an instance record made on another host: `keep` its id (the default) or `renew` it. */
export type OnClone = 'keep' | 'renew';

interface InstanceDocument {
  readonly instance_id: string | null;
  readonly created_at: string | null;
  /** The host the record belongs to (`HostFingerprint`); null in records older than clone detection. */
  readonly host_fingerprint?: string | null;
}

const EMPTY: InstanceDocument = { instance_id: null, created_at: null, host_fingerprint: null };

function parseInstanceDocument(document: unknown): InstanceDocument {
  const id = typeof document === 'object' && document !== null ? (document as Record<string, unknown>).instance_id : undefined;
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) throw new Error('"instance_id" must be a lowercase UUID');
  const { created_at: createdAt, host_fingerprint: host } = document as Record<string, unknown>;
  return {
    instance_id: id,
    created_at: typeof createdAt === 'string' ? createdAt : null,
    host_fingerprint: typeof host === 'string' && FINGERPRINT_PATTERN.test(host) ? host : null,
  };
}

export interface InstanceIdStoreOptions {
  /** Names this host; without it, records carry no fingerprint and no clone is detected. */
  readonly host?: HostFingerprint;
  /** `SOFTCLIENT4ES_INSTANCE_ON_CLONE`; `keep` by default. */
  readonly onClone?: OnClone;
}

/**
 * Moves the instance file `name`, found untrusted, aside (`<name>.untrusted-<time>-<random>`) and
 * returns its new path. Returns null when another process got there first: the file is gone, or it
 * now holds a trusted id (a new one that process just created), which stays where it is.
 */
export async function setUntrustedInstanceFileAside(directory: StateDirectory, name: string): Promise<string | null> {
  const aside = `${name}.untrusted-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
  if (!(await directory.rename(name, aside))) return null;
  if ((await readInstanceId(directory, aside)) === null) return directory.pathOf(aside);
  await directory.moveBackIfAbsent(aside, name);
  return null;
}

/** The id stored in `name`, or null when there is none that can be trusted. */
async function readInstanceId(directory: StateDirectory, name: string): Promise<string | null> {
  try {
    return (await new PrivateJsonFile(directory, name, parseInstanceDocument).read())?.instance_id ?? null;
  } catch {
    return null;
  }
}

/** What `<cache dir>/instance.json` holds, as read without touching anything. */
export type StoredInstanceId =
  | { readonly state: 'present'; readonly id: string; readonly path: string }
  | { readonly state: 'absent'; readonly path: string }
  /** A file the agent would set aside (corrupt, a link, too large) or a directory it would not use; `reason` says which. */
  | { readonly state: 'unusable'; readonly path: string; readonly reason: string };

/**
 * The installation's id as stored, for readers that must change nothing (the CLI): never creates,
 * moves or writes a file, nor the directory. The agent itself uses `LowdbInstanceIdStore.load`.
 */
export async function storedInstanceId(directory: StateDirectory): Promise<StoredInstanceId> {
  const path = directory.pathOf(INSTANCE_ID_FILE);
  try {
    const document = await new PrivateJsonFile(directory, INSTANCE_ID_FILE, parseInstanceDocument).read();
    const id = document?.instance_id ?? null;
    if (id !== null) return { state: 'present', id, path };
    const legacy = await legacyInstanceId(directory).catch(() => null); // what the agent would adopt
    return legacy === null ? { state: 'absent', path } : { state: 'present', id: legacy, path: directory.pathOf(LEGACY_INSTANCE_ID_FILE) };
  } catch (error) {
    return { state: 'unusable', path, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** The UUID in the original product's `instance-id` (trimmed, lower-cased); null when absent or not a UUID. Throws what the directory throws. */
async function legacyInstanceId(directory: StateDirectory): Promise<string | null> {
  const bytes = await directory.read(LEGACY_INSTANCE_ID_FILE, 1024);
  const id = bytes?.toString('utf8').trim().toLowerCase() ?? null;
  return id !== null && UUID_PATTERN.test(id) ? id : null;
}

/**
 * The installation's UUID in `<cache dir>/instance.json`: created once (atomically, so two
 * processes starting together agree) and reused. When `instance.json` is absent, the original
 * product's plain-text `instance-id` is adopted if it holds a UUID (WARN and a new id otherwise);
 * that old file is never written.
 *
 * Clone detection: the record keeps a fingerprint of the host (`HostFingerprint`). A record made on
 * another host — a cache directory copied to another machine — is reported (WARN, `cloned()`);
 * `onClone` `keep` keeps its id, `renew` mints a new one; either way the record then names this
 * host, so the WARN comes once per copy. A record without a fingerprint (older) adopts this host's
 * silently. A file that cannot be trusted is
 * treated as absent (DESIGN §8): moved aside for the operator, never deleted, and replaced by a
 * new id that later starts reuse. When the directory cannot be used (not trusted, not a directory,
 * I/O failure), nothing in it is read or adopted: the id lives for this process only and a WARN says so.
 */
export class LowdbInstanceIdStore implements InstanceIdStore {
  readonly #file: PrivateJsonFile<InstanceDocument>;
  #cloned = false;

  constructor(
    private readonly directory: StateDirectory,
    private readonly logger: Logger,
    private readonly options: InstanceIdStoreOptions = {},
  ) {
    this.#file = new PrivateJsonFile(directory, INSTANCE_ID_FILE, parseInstanceDocument);
  }

  cloned(): boolean {
    return this.#cloned;
  }

  async load(): Promise<string> {
    try {
      const host = await this.#hostFingerprint();
      const stored = await this.#readOrSetAside();
      if (stored === null || stored.instance_id === null) return await this.#create((await this.#legacyId()) ?? randomUUID(), host);
      return await this.#checkHost(stored, stored.instance_id, host);
    } catch (error) {
      const id = randomUUID();
      this.logger.warn(`Instance id not persisted, using a temporary one: ${error instanceof Error ? error.message : error}`, {
        path: this.#file.path,
      });
      return id;
    }
  }

  async #read(): Promise<InstanceDocument> {
    const db = new Low(this.#file, EMPTY);
    await db.read();
    return db.data;
  }

  /** The stored record; null when the file could not be trusted and was moved aside. */
  async #readOrSetAside(): Promise<InstanceDocument | null> {
    try {
      return await this.#read();
    } catch (error) {
      if (!(error instanceof CorruptFileError || error instanceof PrivateFileError)) throw error;
      const aside = await setUntrustedInstanceFileAside(this.directory, INSTANCE_ID_FILE);
      if (aside === null) return this.#read(); // another process got there first
      this.logger.warn(`Instance id file could not be trusted (${error.message}); moved it aside, a new id replaces it`, {
        path: this.#file.path,
        moved_to: aside,
      });
      return null;
    }
  }

  async #create(id: string, host: string | null): Promise<string> {
    const document: InstanceDocument = { instance_id: id, created_at: new Date().toISOString(), ...(host === null ? {} : { host_fingerprint: host }) };
    if (await this.directory.create(INSTANCE_ID_FILE, `${JSON.stringify(document, null, 2)}\n`)) return id;
    const winner = (await this.#read()).instance_id; // another process created it first: theirs is the one
    if (winner === null) throw new Error(`${this.#file.path} vanished while being created`);
    return winner;
  }

  /** The original product's id (`instance-id`, a UUID as text), when it holds one; null otherwise (WARN when it exists). */
  async #legacyId(): Promise<string | null> {
    const path = this.directory.pathOf(LEGACY_INSTANCE_ID_FILE);
    let id: string | null;
    try {
      if ((await this.directory.read(LEGACY_INSTANCE_ID_FILE, 1024)) === null) return null;
      id = await legacyInstanceId(this.directory);
    } catch (error) {
      if (error instanceof UntrustedDirectoryError) throw error;
      this.logger.warn(`Ignored ${path}: ${error instanceof Error ? error.message : String(error)}; a new instance id is created`, { path });
      return null;
    }
    if (id === null) {
      this.logger.warn(`Ignored ${path}: it does not hold a UUID; a new instance id is created`, { path });
      return null;
    }
    this.logger.info(`Adopted the instance id of ${path} (from the original product) into ${this.#file.path}`, { path, instance_id: id });
    return id;
  }

  /** This host's fingerprint; null when there is no way to name it (no clone detection then). */
  async #hostFingerprint(): Promise<string | null> {
    try {
      return (await this.options.host?.fingerprint()) ?? null;
    } catch {
      return null;
    }
  }

  /** The id of a record, after comparing the host it names with this one (see the class comment). */
  async #checkHost(stored: InstanceDocument, id: string, host: string | null): Promise<string> {
    const recorded = stored.host_fingerprint ?? null;
    if (host === null || recorded === host) return id;
    if (recorded === null) {
      // An older record: adopt this host. A file the agent rewrites is said (DESIGN §7).
      if (await this.#rewrite({ ...stored, host_fingerprint: host })) {
        this.logger.warn(`Instance record ${this.#file.path} now names this host (host_fingerprint added); the instance id is unchanged`, { path: this.#file.path });
      }
      return id;
    }
    this.#cloned = true;
    const path = this.#file.path;
    if (this.options.onClone === 'renew') {
      const renewed = randomUUID();
      // Only an id that is stored is this installation's: renewing without storing would mint
      // another id at every start (a read-only directory) and change the installation each time.
      if (!(await this.#rewrite({ instance_id: renewed, created_at: new Date().toISOString(), host_fingerprint: host }))) return id;
      this.logger.warn(
        `Instance record ${path} was made on another host (a copied cache directory?): a new instance id replaces it (SOFTCLIENT4ES_INSTANCE_ON_CLONE=renew)`,
        { path, previous_instance_id: id, instance_id: renewed },
      );
      return renewed;
    }
    this.logger.warn(
      `Instance record ${path} was made on another host (a copied cache directory?): keeping its instance id (SOFTCLIENT4ES_INSTANCE_ON_CLONE=keep); set renew to give this copy an id of its own`,
      { path, instance_id: id },
    );
    await this.#rewrite({ ...stored, host_fingerprint: host });
    return id;
  }

  /** Replaces the record; false (WARN) when it could not: the old one stays, and so the same finding at the next start. */
  async #rewrite(document: InstanceDocument): Promise<boolean> {
    try {
      await this.#file.write(document);
      return true;
    } catch (error) {
      this.logger.warn(`Could not update ${this.#file.path}: ${error instanceof Error ? error.message : String(error)}`, { path: this.#file.path });
      return false;
    }
  }
}
