import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { makeFifo } from '../../support/file-system.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MachineIdHostFingerprint } from '../../../src/adapters/system/machine-id-fingerprint.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

const MACHINE_ID = '4f1c2d3e4a5b4c6d8e7f9a0b1c2d3e4f';
const expected = (text: string) => createHash('sha256').update(`softclient4es-license-agent:${text}`).digest('hex');

describe('MachineIdHostFingerprint', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('machine-id-');
  });
  afterEach(() => removeTempDir(dir));
  const file = (name: string, content: string) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  it('hashes the first machine id found (never the raw id), trimmed', async () => {
    const fingerprint = await new MachineIdHostFingerprint([join(dir, 'absent'), file('machine-id', `${MACHINE_ID}\n`)]).fingerprint();

    expect(fingerprint).toBe(expected(`machine-id:${MACHINE_ID}`));
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint).not.toContain(MACHINE_ID);
  });

  it('differs between two machines, and is stable on one', async () => {
    const one = new MachineIdHostFingerprint([file('a', MACHINE_ID)]);
    const other = new MachineIdHostFingerprint([file('b', MACHINE_ID.replace('4f', '5f'))]);

    expect(await one.fingerprint()).toBe(await one.fingerprint());
    expect(await one.fingerprint()).not.toBe(await other.fingerprint());
  });

  it('is null (no clone detection) when no machine id can be read (absent, empty, "uninitialized", too large), never the host name', async () => {
    // A container gets a new host name each time it is created on the same volume: hashing it would
    // make every such restart look like a copied cache directory.
    const paths = [join(dir, 'absent'), file('empty', '\n'), file('uninit', 'uninitialized\n'), file('huge', 'x'.repeat(4096))];

    expect(await new MachineIdHostFingerprint(paths).fingerprint()).toBeNull();
  });

  it('does not wait on a FIFO planted as the machine id', async () => {
    const fifo = join(dir, 'fifo');
    makeFifo(fifo);
    expect(await new MachineIdHostFingerprint([fifo]).fingerprint()).toBeNull();
  });
});
