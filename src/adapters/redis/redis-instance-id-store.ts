import type { InstanceIdStore } from '../../ports/instance-id-store.port.js';
import type { Logger } from '../../ports/logger.port.js';
import type { RedisFleetConnection } from './redis-fleet-connection.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The fleet's one instance id, in `<prefix>instance-id`: the first member to reach Redis stores its
 * own there with SET NX (its existing local id, `instance.json`, is adopted) and every member uses
 * the stored one. When Redis cannot be reached at start-up, or holds something that is not a UUID,
 * the member runs on its local id, standalone, and `rejoin` tells when the fleet agrees with it.
 */
export class RedisInstanceIdStore implements InstanceIdStore {
  #runningOn: string | null = null;
  #mismatchLogged = false;

  constructor(
    private readonly local: InstanceIdStore,
    private readonly connection: RedisFleetConnection,
    private readonly logger: Logger,
  ) {}

  /**
   * Always false: in a fleet, members on many hosts share one id by design. The local record's own
   * clone check still runs (and WARNs) when the member starts.
   */
  cloned(): boolean {
    return false;
  }

  async load(): Promise<string> {
    const localId = await this.local.load();
    let fleetId: string | null = null;
    if (await this.connection.open()) {
      try {
        fleetId = await this.#claim(localId);
      } catch {
        // unreachable after all: standalone
      }
    }
    this.#runningOn = fleetId ?? localId;
    if (fleetId === null) {
      this.logger.warn('Fleet store (Redis) unreachable at start-up: running standalone on the local instance id until it can be reached', {
        fleet: this.connection.keys.fleetId,
      });
    }
    return this.#runningOn;
  }

  /**
   * True when this process runs on the fleet's instance id, storing it for a fleet that has none
   * (a Redis that came back empty). Checked at every beat. Fails with `FleetError` when Redis is unreachable.
   */
  async rejoin(): Promise<boolean> {
    if (this.#runningOn === null) return false;
    const joined = (await this.#claim(this.#runningOn)) === this.#runningOn;
    if (!joined && !this.#mismatchLogged) {
      this.#mismatchLogged = true;
      this.logger.warn('The fleet runs on another instance id than this process (it started while Redis was unreachable): staying standalone until restarted', {
        fleet: this.connection.keys.fleetId,
      });
    }
    return joined;
  }

  /** The fleet's id, after storing `localId` as the fleet's if there is none; null when the stored value is no UUID. */
  async #claim(localId: string): Promise<string | null> {
    const { keys } = this.connection;
    const stored = await this.connection.run('read the instance id', async (client) => {
      await client.set(keys.instanceId, localId, { condition: 'NX' });
      return client.get(keys.instanceId);
    });
    if (stored !== null && UUID_PATTERN.test(stored)) return stored;
    if (!this.#mismatchLogged) {
      this.#mismatchLogged = true;
      this.logger.warn(`The fleet instance id in ${keys.instanceId} is not a UUID: this member stays standalone on its own instance id`);
    }
    return null;
  }
}
