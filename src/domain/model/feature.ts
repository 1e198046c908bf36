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

export function isFeature(value: unknown): value is Feature {
  return typeof value === 'string' && (FEATURES as readonly string[]).includes(value);
}

/** Keeps the known feature names, in canonical order; unknown names are ignored by contract. */
export function knownFeatures(names: readonly unknown[]): readonly Feature[] {
  return FEATURES.filter((feature) => names.includes(feature));
}
