/**
 * One try at the lease: held (taken or renewed) with its fence — a number that grows with every new
 * holder and is never reused — or held by another member for `expiresInMs` more unless renewed.
 */
export type LeaseAttempt = { readonly held: true; readonly fence: number } | { readonly held: false; readonly expiresInMs: number };

/**
 * The right to be the fleet's one refresher (the only member that calls the license backend).
 * Fails with `FleetError` when the store cannot be reached.
 */
export interface LeaseCoordinator {
  /** Takes the lease when nobody holds it (a new fence), renews it when this member holds it (the same fence). */
  acquire(): Promise<LeaseAttempt>;
  /** Gives the lease up if this member still holds it (at shutdown: the next member takes over at once). */
  release(): Promise<void>;
}
