/** Product features a license can grant. */
export const FEATURES = [
  'materialized_views',
  'jdbc_driver',
  'adbc_driver',
  'flight_sql',
  'federation',
  'repl',
] as const;

export type Feature = (typeof FEATURES)[number];

/** Keeps the known feature names, in canonical order; unknown names are ignored by contract. */
export function knownFeatures(names: readonly unknown[]): readonly Feature[] {
  return FEATURES.filter((feature) => names.includes(feature));
}

/** Whether `value` is the name of a feature of the contract (DESIGN §3). */
export function isFeature(value: unknown): value is Feature {
  return (FEATURES as readonly unknown[]).includes(value);
}
