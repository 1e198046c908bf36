import type { LicenseCache } from '../../src/ports/license-cache.port.js';

/** A license cache in memory, with switches to make each operation fail. */
export class InMemoryLicenseCache implements LicenseCache {
  jwt: string | null;
  saves = 0;
  clears = 0;
  failLoadWith: Error | null = null;
  failSaveWith: Error | null = null;
  failClearWith: Error | null = null;

  constructor(jwt: string | null = null) {
    this.jwt = jwt;
  }

  async load(): Promise<string | null> {
    if (this.failLoadWith) throw this.failLoadWith;
    return this.jwt;
  }

  async save(jwt: string): Promise<void> {
    if (this.failSaveWith) throw this.failSaveWith;
    this.saves += 1;
    this.jwt = jwt;
  }

  async clear(): Promise<void> {
    if (this.failClearWith) throw this.failClearWith;
    this.clears += 1;
    this.jwt = null;
  }
}
