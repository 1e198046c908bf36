/** A license JWT as the fleet store holds it: still unverified, with the fence of the member that wrote it. */
export interface SharedLicense {
  readonly jwt: string;
  readonly fence: number;
}

/**
 * The fleet's last good license: written by the lease holder, read by every member, who verifies
 * it like a cache file before using it. Fails with `FleetError` (unreachable, corrupt, too large).
 */
export interface SharedLicenseStore {
  /** The stored license (unverified), or null when there is none. */
  load(): Promise<SharedLicense | null>;
  /**
   * Stores `license` and tells every member, unless the store holds one with a higher fence (a
   * newer lease holder wrote it): then nothing changes and false is returned.
   */
  publish(license: SharedLicense): Promise<boolean>;
  /** Calls `listener` whenever a member published a license; returns the function that unsubscribes it. */
  onPublished(listener: () => void): () => void;
}
