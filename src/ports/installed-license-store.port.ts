/**
 * Where a license installed at runtime (`PUT /admin/license`) is kept so that it survives a
 * restart. Holds one JWT, as given (verified before it is saved, and again at every resolution).
 */
export interface InstalledLicenseStore {
  /** The installed JWT; null when none is. Fails when the store cannot be read. */
  load(): Promise<string | null>;
  /** Replaces the installed JWT atomically. Fails when it could not be stored. */
  save(jwt: string): Promise<void>;
  /** Removes the installed JWT; false when there was none. */
  remove(): Promise<boolean>;
}
