import { afterEach } from '@jest/globals';

interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Returns `started`, which awaits a server being started and has it stopped after the current
 * test, whatever the test did: one registry per test file (call at the top level).
 */
export function stoppedAfterEach(): <T extends Stoppable>(starting: Promise<T>) => Promise<T> {
  const running: Stoppable[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.stop()));
  });
  return async (starting) => {
    const server = await starting;
    running.push(server);
    return server;
  };
}
