import type { LicenseCache } from '../../ports/license-cache.port.js';
import type { SharedLicenseStore } from '../../ports/shared-license-store.port.js';
import type { FleetState } from './fleet-state.js';

/**
 * The license cache of a fleet member: the fleet's license first (while Redis answers), the disk
 * cache otherwise, so that a member restarting without disk, or while the backend is down, runs the
 * fleet's license — verified by the cache step like any cache file. What the lease holder saves is
 * published to the fleet first, then written to disk. A fleet record the cache step refused is never
 * deleted from Redis (members do not undo each other's writes): it is skipped, and the disk used.
 */
export class FleetLicenseCache implements LicenseCache {
  #loadedFromFleet: string | null = null;
  #refusedFleetJwt: string | null = null;

  constructor(
    private readonly disk: LicenseCache,
    private readonly store: SharedLicenseStore,
    private readonly fleet: FleetState,
  ) {}

  async load(): Promise<string | null> {
    this.#loadedFromFleet = null;
    if (this.fleet.connected) {
      try {
        const shared = await this.store.load();
        if (shared !== null && shared.jwt !== this.#refusedFleetJwt) {
          this.#loadedFromFleet = shared.jwt;
          return shared.jwt;
        }
      } catch {
        // unreachable, or a record that is no license: the disk cache
      }
    }
    return this.disk.load();
  }

  async save(jwt: string): Promise<void> {
    await this.fleet.publish(jwt);
    await this.disk.save(jwt);
  }

  async setAside(): Promise<string | null> {
    if (this.#loadedFromFleet === null) return this.disk.setAside();
    this.#refusedFleetJwt = this.#loadedFromFleet;
    return `nowhere: the fleet's record (fleet "${this.fleet.id}") is left in Redis and skipped from now on`;
  }
}
