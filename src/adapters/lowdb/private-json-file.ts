import type { Adapter } from 'lowdb';
import { readPrivateFile, removeFile, writePrivateFile } from '../fs/private-files.js';

/** The file exists but does not hold the document we wrote. */
export class CorruptFileError extends Error {
  constructor(path: string, reason: string) {
    super(`${path} is corrupt: ${reason}`);
    this.name = 'CorruptFileError';
  }
}

/**
 * A lowdb adapter for small private JSON documents: reads refuse links and oversized files and
 * validate the content; writes are atomic with mode 0600. lowdb's own JSONFile does none of that.
 */
export class PrivateJsonFile<T> implements Adapter<T> {
  constructor(
    readonly path: string,
    private readonly parse: (document: unknown) => T,
    private readonly maxBytes = 64 * 1024,
  ) {}

  async read(): Promise<T | null> {
    const bytes = await readPrivateFile(this.path, this.maxBytes);
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
    await writePrivateFile(this.path, `${JSON.stringify(data, null, 2)}\n`);
  }

  async remove(): Promise<void> {
    await removeFile(this.path);
  }
}
