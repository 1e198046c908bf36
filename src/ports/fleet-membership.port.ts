/** The members of a fleet, by heartbeat: a member that stops beating drops out after a few beats. */
export interface FleetMembership {
  /** Announces this member for `ttlMs` and counts the members alive now (this one included). */
  heartbeat(ttlMs: number): Promise<number>;
  /** Withdraws this member at once (a clean shutdown). */
  leave(): Promise<void>;
}

export type FleetRole = 'leader' | 'follower' | 'standalone';

/** Where this member stands in its fleet (`GET /admin/license` `fleet`, metrics). */
export interface FleetStatus {
  readonly id: string;
  readonly connected: boolean;
  readonly role: FleetRole;
  readonly members: number;
  /** When this member last knew it ran the fleet's license (published it, or adopted or re-checked it). */
  readonly lastSyncAt: Date | null;
}

/** Reads the fleet status; bound only in fleet mode. */
export interface FleetView {
  status(): FleetStatus;
}
