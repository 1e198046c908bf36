import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { HostFingerprint } from '../../ports/host-fingerprint.port.js';
import { readBoundedRegularFile } from '../fs/bounded-file.js';

/** Where systemd and D-Bus keep the machine id, in the order they are tried. */
export const MACHINE_ID_PATHS = ['/etc/machine-id', '/var/lib/dbus/machine-id'] as const;

/**
 * The host named by the SHA-256 of its machine id (`/etc/machine-id`, else
 * `/var/lib/dbus/machine-id`), or of its host name when neither can be read. The raw id is never
 * kept: it is hashed with this application's name, as systemd asks of applications
 * (machine-id(5): "hash it with a fixed, application-specific key"), so the stored value matches
 * no other program's.
 */
export class MachineIdHostFingerprint implements HostFingerprint {
  constructor(
    private readonly paths: readonly string[] = MACHINE_ID_PATHS,
    private readonly hostName: () => string = hostname,
  ) {}

  async fingerprint(): Promise<string | null> {
    for (const path of this.paths) {
      const id = await readMachineId(path);
      if (id !== null) return hash(`machine-id:${id}`);
    }
    const name = this.hostName().trim();
    return name === '' ? null : hash(`hostname:${name}`);
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
