import type { LicenseCache } from '../../src/ports/license-cache.port.js';

/** A license cache in memory, with switches to make each operation fail. */
export class InMemoryLicenseCache implements LicenseCache {
  jwt: string | null;
  saves = 0;
  /** JWTs set aside, oldest first. */
  readonly setAsideJwts: string[] = [];
  failLoadWith: Error | null = null;
  failSaveWith: Error | null = null;
  failSetAsideWith: Error | null = null;
  /** When set, `save` waits for this promise first (a disk that stalls). */
  stallSavesUntil: Promise<void> | null = null;

  constructor(jwt: string | null = null) {
    this.jwt = jwt;
  }

  async load(): Promise<string | null> {
    if (this.failLoadWith) throw this.failLoadWith;
    return this.jwt;
  }

  async save(jwt: string): Promise<void> {
    if (this.stallSavesUntil) await this.stallSavesUntil;
    if (this.failSaveWith) throw this.failSaveWith;
    this.saves += 1;
    this.jwt = jwt;
  }

  async setAside(): Promise<string | null> {
    if (this.failSetAsideWith) throw this.failSetAsideWith;
    if (this.jwt === null) return null;
    this.setAsideJwts.push(this.jwt);
    this.jwt = null;
    return `memory:rejected-${this.setAsideJwts.length}`;
  }
}
