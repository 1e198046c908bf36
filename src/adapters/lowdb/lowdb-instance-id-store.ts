import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type { InstanceIdStore } from '../../ports/instance-id-store.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { createPrivateFile, ensurePrivateDirectory } from '../fs/private-files.js';
import { PrivateJsonFile } from './private-json-file.js';

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
 * The installation's UUID in `<cache dir>/instance.json`: created once (atomically, so two
 * processes starting together agree) and never rewritten. When the directory cannot be used,
 * the id lives for this process only and a WARN says so.
 */
export class LowdbInstanceIdStore implements InstanceIdStore {
  readonly #file: PrivateJsonFile<InstanceDocument>;

  constructor(
    private readonly directory: string,
    private readonly logger: Logger,
  ) {
    this.#file = new PrivateJsonFile(join(directory, INSTANCE_ID_FILE), parseInstanceDocument);
  }

  async load(): Promise<string> {
    try {
      return (await this.#read()) ?? (await this.#create());
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

  async #create(): Promise<string> {
    await ensurePrivateDirectory(this.directory);
    const id = randomUUID();
    const document: InstanceDocument = { instance_id: id, created_at: new Date().toISOString() };
    if (await createPrivateFile(this.#file.path, `${JSON.stringify(document, null, 2)}\n`)) return id;
    const winner = await this.#read(); // another process created it first: theirs is the one
    if (winner === null) throw new Error(`${this.#file.path} vanished while being created`);
    return winner;
  }
}
