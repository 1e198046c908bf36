/** The persistent identity of this installation: created once, reused forever. */
export interface InstanceIdStore {
  /** Returns the stored instance id, creating and storing a new UUID the first time. */
  load(): Promise<string>;
  /**
   * After `load`: true when the stored record was made on another host (a copied cache directory).
   * Stores that cannot tell omit it, which reads as false.
   */
  cloned?(): boolean;
}
