import type { HighWaterMark, HighWaterMarkStore } from '../../ports/high-water-mark-store.port.js';
import type { StateDirectory } from '../fs/state-directory.js';
import { toCacheError } from './lowdb-license-cache.js';
import { PrivateJsonFile } from './private-json-file.js';

export const CLOCK_FILE = 'clock.json';

interface ClockDocument {
  readonly high_water_at: string;
  readonly newest_backend_iat: string | null;
}

/** An ISO-8601 instant within the representable range; anything else makes the file corrupt. */
function instant(value: unknown, name: string): Date {
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new Error(`"${name}" must be an ISO-8601 instant`);
  return date;
}

function parseClockDocument(document: unknown): ClockDocument {
  if (typeof document !== 'object' || document === null) throw new Error('expected a JSON object');
  const { high_water_at: highWaterAt, newest_backend_iat: newest } = document as Record<string, unknown>;
  instant(highWaterAt, 'high_water_at');
  if (newest !== null) instant(newest, 'newest_backend_iat');
  return { high_water_at: highWaterAt as string, newest_backend_iat: newest as string | null };
}

/** The clock high-water mark in `<cache dir>/clock.json` (0600, replaced atomically). */
export class LowdbHighWaterMarkStore implements HighWaterMarkStore {
  readonly #file: PrivateJsonFile<ClockDocument>;

  constructor(directory: StateDirectory) {
    this.#file = new PrivateJsonFile(directory, CLOCK_FILE, parseClockDocument);
  }

  async load(): Promise<HighWaterMark | null> {
    let document: ClockDocument | null;
    try {
      document = await this.#file.read();
    } catch (error) {
      throw toCacheError(error, 'read', this.#file.path);
    }
    if (document === null) return null;
    return {
      highWaterAt: new Date(document.high_water_at),
      newestBackendIssuedAt: document.newest_backend_iat === null ? null : new Date(document.newest_backend_iat),
    };
  }

  async save(mark: HighWaterMark): Promise<void> {
    try {
      await this.#file.write({
        high_water_at: mark.highWaterAt.toISOString(),
        newest_backend_iat: mark.newestBackendIssuedAt?.toISOString() ?? null,
      });
    } catch (error) {
      throw toCacheError(error, 'write', this.#file.path);
    }
  }
}
