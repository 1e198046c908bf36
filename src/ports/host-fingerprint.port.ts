/**
 * A stable, non-reversible name of the machine the agent runs on, so that an instance record
 * copied to another machine can be recognised (DESIGN §6, clone detection). Never the raw
 * machine id: a hash of it.
 */
export interface HostFingerprint {
  /** Hex digits; null when the host cannot be named at all. */
  fingerprint(): Promise<string | null>;
}
