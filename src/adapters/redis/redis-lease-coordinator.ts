import type { LeaseAttempt, LeaseCoordinator } from '../../ports/lease-coordinator.port.js';
import type { RedisFleetConnection } from './redis-fleet-connection.js';

/**
 * Takes the lease with SET NX PX, the new holder's fence from INCR, in one script; renews it
 * (PEXPIRE) only while this member holds it. The value is `<member id> <fence>`.
 * Returns the fence held, or minus the lease's remaining milliseconds when another member holds it.
 */
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if not current then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. fence, 'NX', 'PX', ARGV[2])
  return fence
end
local space = string.find(current, ' ', 1, true)
if space and string.sub(current, 1, space - 1) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(string.sub(current, space + 1))
end
return -math.max(redis.call('PTTL', KEYS[1]), 1)
`;

/** Deletes the lease only when this member holds it. */
const RELEASE = `
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * The refresher's lease in Redis (after Kubernetes' leader election: a lease with a TTL renewed by
 * its holder, and a fencing number that grows with every new holder, so that a deposed holder's
 * late writes are refused by the shared license store).
 */
export class RedisLeaseCoordinator implements LeaseCoordinator {
  constructor(
    private readonly connection: RedisFleetConnection,
    private readonly ttlMs: number,
  ) {}

  async acquire(): Promise<LeaseAttempt> {
    const { keys, memberId } = this.connection;
    const reply = await this.connection.run('take or renew the lease', (client) =>
      client.eval(ACQUIRE, { keys: [keys.lease, keys.fence], arguments: [memberId, String(this.ttlMs)] }),
    );
    const value = Number(reply);
    if (!Number.isSafeInteger(value) || value === 0) return { held: false, expiresInMs: this.ttlMs }; // a foreign value in the key
    return value > 0 ? { held: true, fence: value } : { held: false, expiresInMs: -value };
  }

  async release(): Promise<void> {
    const { keys, memberId } = this.connection;
    await this.connection.run('release the lease', (client) => client.eval(RELEASE, { keys: [keys.lease], arguments: [memberId] }));
  }
}
