import type { InstalledLicenseStore } from '../../src/ports/installed-license-store.port.js';

/** The installed license in memory; `failWith` makes the next calls fail, as a disk that refuses. */
export class InMemoryInstalledLicenseStore implements InstalledLicenseStore {
  jwt: string | null = null;
  failWith: Error | null = null;

  async load(): Promise<string | null> {
    if (this.failWith !== null) throw this.failWith;
    return this.jwt;
  }

  async save(jwt: string): Promise<void> {
    if (this.failWith !== null) throw this.failWith;
    this.jwt = jwt;
  }

  async remove(): Promise<boolean> {
    if (this.failWith !== null) throw this.failWith;
    const had = this.jwt !== null;
    this.jwt = null;
    return had;
  }
}
