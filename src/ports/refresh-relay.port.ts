/** What the lease holder's refresh did, as it tells the member that asked for it. */
export interface RelayedRefresh {
  readonly status: 'refreshed' | 'failed' | 'skipped';
  /** The failure's stable code and message (already through the holder's text gate); null unless failed. */
  readonly code: string | null;
  readonly message: string | null;
}

/** Carries forced refreshes from any member to the lease holder, and the holder's outcome back. */
export interface RefreshRelay {
  /** Asks the lease holder to refresh; its outcome, or null when no holder answered within `timeoutMs`. */
  forward(timeoutMs: number): Promise<RelayedRefresh | null>;
  /** Answers forwarded requests with `handler` while `serving()` says so; returns the function that stops. */
  serve(serving: () => boolean, handler: () => Promise<RelayedRefresh>): () => void;
}
