import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { AgentEnvironment } from '../../support/agent-environment.js';
import { makeFifo } from '../../support/file-system.js';
import { ServerProcess } from '../../support/server-process.js';

/** The built server (`npm test` builds it first): an unusable trusted key stops start-up with exit 2 and one line. */
describe('start-up with an unusable trusted key', () => {
  let env: AgentEnvironment;
  let server: ServerProcess | undefined;
  beforeEach(async () => {
    env = await AgentEnvironment.create();
  });
  afterEach(async () => {
    await server?.kill();
    server = undefined;
    await env.dispose();
  });

  it('exits 2 on a small-order SOFTCLIENT4ES_LICENSE_PUBLIC_KEY, naming the variable and the kid', async () => {
    const smallOrder = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', kid: 'next', x: 'A'.repeat(43) });
    server = ServerProcess.spawn(env.env({ SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: smallOrder }));

    expect(await server.exitCode()).toBe(2);
    expect(server.stderr.trim().split('\n')).toEqual([
      'Invalid trusted license keys: SOFTCLIENT4ES_LICENSE_PUBLIC_KEY: key "next" is not a valid Ed25519 public key: "x" is a small-order point, under which forged signatures verify',
    ]);
  });

  it('exits 2 on a SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS that is a FIFO, instead of waiting for a writer', async () => {
    const fifo = join(env.dir, 'fifo-keys.json');
    makeFifo(fifo);
    server = ServerProcess.spawn(env.env({ SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS: fifo }));

    expect(await server.exitCode()).toBe(2);
    expect(server.stderr.trim()).toBe(`Invalid trusted license keys: SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS (${fifo}): not a regular file (a FIFO)`);
  });
});
