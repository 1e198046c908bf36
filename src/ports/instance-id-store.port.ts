/** The persistent identity of this installation: created once, reused forever. */
export interface InstanceIdStore {
  /** Returns the stored instance id, creating and storing a new UUID the first time. */
  load(): Promise<string>;
}
