import type { Adapter } from 'lowdb';
import { PrivateFileError } from '../fs/private-files.js';
import type { StateDirectory } from '../fs/state-directory.js';

/** The file exists but does not hold the document we wrote. */
export class CorruptFileError extends Error {
  constructor(
    path: string,
    readonly reason: string,
  ) {
    super(`${path} is corrupt: ${reason}`);
    this.name = 'CorruptFileError';
  }
}

/**
 * A lowdb adapter for a small private JSON document `name` in the cache directory, through its
 * gate: reads refuse links and oversized files and validate the content; writes are atomic with
 * mode 0600, and replacing a corrupt document is logged. lowdb's own JSONFile does none of that.
 */
export class PrivateJsonFile<T> implements Adapter<T> {
  constructor(
    private readonly directory: StateDirectory,
    readonly name: string,
    private readonly parse: (document: unknown) => T,
    private readonly maxBytes = 64 * 1024,
  ) {}

  get path(): string {
    return this.directory.pathOf(this.name);
  }

  /** The document; null when there is none. Throws `CorruptFileError`, `PrivateFileError` or the directory's errors. */
  async read(): Promise<T | null> {
    const bytes = await this.directory.read(this.name, this.maxBytes);
    if (bytes === null) return null;
    let document: unknown;
    try {
      document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      throw new CorruptFileError(this.path, 'not valid UTF-8 JSON');
    }
    try {
      return this.parse(document);
    } catch (error) {
      throw new CorruptFileError(this.path, error instanceof Error ? error.message : 'unexpected content');
    }
  }

  async write(data: T): Promise<void> {
    await this.directory.write(this.name, `${JSON.stringify(data, null, 2)}\n`, await this.#unusable());
  }

  async remove(): Promise<void> {
    await this.directory.remove(this.name);
  }

  /** Why the document about to be replaced could not have been read back, for the replacement's WARN. */
  async #unusable(): Promise<string | undefined> {
    try {
      await this.read();
      return undefined;
    } catch (error) {
      if (error instanceof CorruptFileError) return `was corrupt (${error.reason})`;
      if (error instanceof PrivateFileError && error.code === 'TOO_LARGE') return `was larger than ${this.maxBytes} bytes`;
      return undefined; // links, other owners, modes: the directory reports those; its own failures surface in the write
    }
  }
}
