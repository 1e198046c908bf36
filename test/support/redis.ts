import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createClient, type RedisClientType } from 'redis';

/** The Redis the fleet tests use: `REDIS_URL`, else the machine's own on 127.0.0.1:6379. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const HOW_TO_START =
  `The fleet tests need a Redis at ${REDIS_URL} (REDIS_URL). Start one with ` +
  "`redis-server --port 6379 --save '' --appendonly no` (Debian/Ubuntu: apt-get install redis-server), " +
  'or point REDIS_URL at a reachable one; `.ci/run` starts one on a free port by itself.';

/** A connected client of the test Redis; fails (never skips) with instructions when there is none. */
export async function testRedis(): Promise<RedisClientType> {
  const client = createClient({ url: REDIS_URL, disableOfflineQueue: true, socket: { connectTimeout: 2_000, reconnectStrategy: false } }) as RedisClientType;
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.destroy();
    throw new Error(`${HOW_TO_START} (${error instanceof Error ? error.message : String(error)})`);
  }
  return client;
}

/** A fleet id of its own for one test: its keys (`softclient4es:fleet:<id>:`) are nobody else's. */
export function freshFleetId(): string {
  return `test-${randomUUID()}`;
}

/** Removes every key of fleet `id`. */
export async function deleteFleetKeys(client: RedisClientType, id: string): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: `softclient4es:fleet:${id}:*`, COUNT: 1_000 })) {
    if (keys.length > 0) await client.del(keys);
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A private `redis-server` on a free port (no persistence), to stop and start again within a test. */
export class PrivateRedis {
  #child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, empty) on the same port and waits until it answers. */
  async restart(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.#child = child;
    const failed = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`cannot run redis-server: ${error.message}. ${HOW_TO_START}`))));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = createClient({ url: this.url, socket: { connectTimeout: 500, reconnectStrategy: false } });
      client.on('error', () => undefined);
      try {
        await Promise.race([client.connect().then(() => client.ping()), failed]);
        client.destroy();
        return;
      } catch (error) {
        client.destroy();
        if (Date.now() > deadline || child.exitCode !== null) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** Kills the server (SIGKILL: as abrupt as a crash or a partition). */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}
