import { FleetError } from '../../domain/model/errors.js';
import type { SharedLicense, SharedLicenseStore } from '../../ports/shared-license-store.port.js';
import type { RedisFleetConnection } from './redis-fleet-connection.js';

/** The most a license record may take; a JWT is at most 16 KiB. */
export const MAX_RECORD_BYTES = 64 * 1024;

/** At most `ARGV[1]` + 1 bytes of the record, so that a huge value is never read whole; `{type}` for another type. */
const LOAD = `
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then return false end
if kind ~= 'string' then return {kind} end
return redis.call('GETRANGE', KEYS[1], 0, ARGV[1])
`;

/**
 * Writes the record unless the stored one carries a higher fence (a newer lease holder wrote it),
 * then announces it. A stored record that does not parse is replaced: it is no license.
 */
const PUBLISH = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, record = pcall(cjson.decode, current)
  if ok and type(record) == 'table' and type(record.fence) == 'number' and record.fence > tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1
`;

/**
 * The fleet's last good license in Redis, as `{"jwt", "fence"}` under `<prefix>license`, and a
 * pub/sub channel that tells members when it changes. Reads are bounded and parsed here: a value
 * that is too large, of another type or not such a record is a `FleetError`, never a license.
 * The JWT inside is not trusted: members verify it like a cache file.
 */
export class RedisSharedLicenseStore implements SharedLicenseStore {
  constructor(private readonly connection: RedisFleetConnection) {}

  async load(): Promise<SharedLicense | null> {
    const { keys } = this.connection;
    const reply = await this.connection.run('read the license', (client) =>
      client.eval(LOAD, { keys: [keys.license], arguments: [String(MAX_RECORD_BYTES)] }),
    );
    if (reply === null) return null;
    if (typeof reply !== 'string') throw new FleetError('FLEET.CORRUPT', `the fleet license record is not a string value (${keys.license})`);
    if (Buffer.byteLength(reply) > MAX_RECORD_BYTES) {
      throw new FleetError('FLEET.TOO_LARGE', `the fleet license record is larger than ${MAX_RECORD_BYTES} bytes (${keys.license})`);
    }
    return parseRecord(reply, keys.license);
  }

  async publish({ jwt, fence }: SharedLicense): Promise<boolean> {
    const { keys } = this.connection;
    const reply = await this.connection.run('publish the license', (client) =>
      client.eval(PUBLISH, { keys: [keys.license], arguments: [JSON.stringify({ jwt, fence }), String(fence), keys.licenseChannel] }),
    );
    return Number(reply) === 1;
  }

  onPublished(listener: () => void): () => void {
    return this.connection.subscribe(this.connection.keys.licenseChannel, () => listener());
  }
}

function parseRecord(text: string, key: string): SharedLicense {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    throw new FleetError('FLEET.CORRUPT', `the fleet license record is not JSON (${key})`);
  }
  const { jwt, fence } = (typeof record === 'object' && record !== null ? record : {}) as Record<string, unknown>;
  if (typeof jwt !== 'string' || jwt === '' || typeof fence !== 'number' || !Number.isSafeInteger(fence) || fence < 1) {
    throw new FleetError('FLEET.CORRUPT', `the fleet license record is not {"jwt": string, "fence": positive integer} (${key})`);
  }
  return { jwt, fence };
}
