import type { TrustedTime } from '../../src/ports/trusted-time.port.js';

/** TrustedTime in memory: records what was accepted, and lets a test set the "never older" bar. */
export class InMemoryTrustedTime implements TrustedTime {
  newest: Date | null = null;
  readonly acceptedTokens: { issuedAt: Date; fromBackend: boolean }[] = [];

  newestBackendIssuedAt(): Date | null {
    return this.newest;
  }

  accepted(issuedAt: Date, fromBackend: boolean): void {
    this.acceptedTokens.push({ issuedAt, fromBackend });
    if (fromBackend && (this.newest === null || issuedAt > this.newest)) this.newest = issuedAt;
  }
}
