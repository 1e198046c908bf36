import { randomUUID } from 'node:crypto';
import { Low } from 'lowdb';
import type { InstanceIdStore } from '../../ports/instance-id-store.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { PrivateFileError } from '../fs/private-files.js';
import type { StateDirectory } from '../fs/state-directory.js';
import { CorruptFileError, PrivateJsonFile } from './private-json-file.js';

export const INSTANCE_ID_FILE = 'instance.json';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface InstanceDocument {
  readonly instance_id: string | null;
  readonly created_at: string | null;
}

const EMPTY: InstanceDocument = { instance_id: null, created_at: null };

function parseInstanceDocument(document: unknown): InstanceDocument {
  const id = typeof document === 'object' && document !== null ? (document as Record<string, unknown>).instance_id : undefined;
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) throw new Error('"instance_id" must be a lowercase UUID');
  const createdAt = (document as Record<string, unknown>).created_at;
  return { instance_id: id, created_at: typeof createdAt === 'string' ? createdAt : null };
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
    return id === null ? { state: 'absent', path } : { state: 'present', id, path };
  } catch (error) {
    return { state: 'unusable', path, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The installation's UUID in `<cache dir>/instance.json`: created once (atomically, so two
 * processes starting together agree) and never rewritten. A file that cannot be trusted is
 * treated as absent (DESIGN §8): moved aside for the operator, never deleted, and replaced by a
 * new id that later starts reuse. When the directory cannot be used (not trusted, not a directory,
 * I/O failure), nothing in it is read or adopted: the id lives for this process only and a WARN says so.
 */
export class LowdbInstanceIdStore implements InstanceIdStore {
  readonly #file: PrivateJsonFile<InstanceDocument>;

  constructor(
    private readonly directory: StateDirectory,
    private readonly logger: Logger,
  ) {
    this.#file = new PrivateJsonFile(directory, INSTANCE_ID_FILE, parseInstanceDocument);
  }

  async load(): Promise<string> {
    try {
      return (await this.#readOrSetAside()) ?? (await this.#create());
    } catch (error) {
      const id = randomUUID();
      this.logger.warn(`Instance id not persisted, using a temporary one: ${error instanceof Error ? error.message : error}`, {
        path: this.#file.path,
      });
      return id;
    }
  }

  async #read(): Promise<string | null> {
    const db = new Low(this.#file, EMPTY);
    await db.read();
    return db.data.instance_id;
  }

  /** The stored id; null when there is none, or when the file could not be trusted and was moved aside. */
  async #readOrSetAside(): Promise<string | null> {
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

  async #create(): Promise<string> {
    const id = randomUUID();
    const document: InstanceDocument = { instance_id: id, created_at: new Date().toISOString() };
    if (await this.directory.create(INSTANCE_ID_FILE, `${JSON.stringify(document, null, 2)}\n`)) return id;
    const winner = await this.#read(); // another process created it first: theirs is the one
    if (winner === null) throw new Error(`${this.#file.path} vanished while being created`);
    return winner;
  }
}
