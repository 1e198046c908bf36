import type { FleetMembership } from '../../ports/fleet-membership.port.js';
import type { RedisFleetConnection } from './redis-fleet-connection.js';

/** The most heartbeat keys counted (a bound on the work a hostile or huge keyspace can cause). */
const MAX_COUNTED = 10_000;

/** Membership by heartbeat keys `<prefix>member:<member id>` with a TTL, counted with SCAN. */
export class RedisFleetMembership implements FleetMembership {
  constructor(private readonly connection: RedisFleetConnection) {}

  async heartbeat(ttlMs: number): Promise<number> {
    const { keys, memberId } = this.connection;
    return this.connection.run('record the heartbeat', async (client) => {
      await client.set(keys.member(memberId), String(Date.now()), { expiration: { type: 'PX', value: ttlMs } });
      let members = 0;
      for await (const batch of client.scanIterator({ MATCH: keys.memberPattern, COUNT: 1_000 })) {
        members += batch.length;
        if (members >= MAX_COUNTED) break;
      }
      return Math.max(members, 1);
    });
  }

  async leave(): Promise<void> {
    const { keys, memberId } = this.connection;
    await this.connection.run('withdraw the heartbeat', (client) => client.del(keys.member(memberId)));
  }
}
