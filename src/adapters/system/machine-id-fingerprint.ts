import { createHash } from 'node:crypto';
import type { HostFingerprint } from '../../ports/host-fingerprint.port.js';
import { readBoundedRegularFile } from '../fs/bounded-file.js';

/** Where systemd and D-Bus keep the machine id, in the order they are tried. */
export const MACHINE_ID_PATHS = ['/etc/machine-id', '/var/lib/dbus/machine-id'] as const;

/**
 * The host named by the SHA-256 of its machine id (`/etc/machine-id`, else
 * `/var/lib/dbus/machine-id`); null — no clone detection — when neither can be read. The raw id is
 * never kept: it is hashed with this application's name, as systemd asks of applications
 * (machine-id(5): "hash it with a fixed, application-specific key"), so the stored value matches
 * no other program's.
 *
 * Nothing else stands in for a missing machine id: the host name is not a machine's identity (a
 * container gets a new one each time it is created, on the same volume), and a machine id that
 * cannot be read today is no evidence of another machine. Either would make an ordinary restart
 * look like a copied cache directory, and `SOFTCLIENT4ES_INSTANCE_ON_CLONE=renew` throw the
 * installation's id away.
 */
export class MachineIdHostFingerprint implements HostFingerprint {
  constructor(private readonly paths: readonly string[] = MACHINE_ID_PATHS) {}

  async fingerprint(): Promise<string | null> {
    for (const path of this.paths) {
      const id = await readMachineId(path);
      if (id !== null) return hash(`machine-id:${id}`);
    }
    return null;
  }
}

async function readMachineId(path: string): Promise<string | null> {
  try {
    const id = (await readBoundedRegularFile(path, 256)).toString('utf8').trim();
    return id === '' || id === 'uninitialized' ? null : id;
  } catch {
    return null;
  }
}

function hash(text: string): string {
  return createHash('sha256').update(`softclient4es-license-agent:${text}`).digest('hex');
}
