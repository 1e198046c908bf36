/** License tiers, ordered: Community < Pro < Enterprise. */
export const TIERS = ['community', 'pro', 'enterprise'] as const;

export type Tier = (typeof TIERS)[number];

/** A tier as operators read it in logs and the admin API. */
export type TierName = 'Community' | 'Pro' | 'Enterprise';

const DISPLAY_NAMES: Readonly<Record<Tier, TierName>> = {
  community: 'Community',
  pro: 'Pro',
  enterprise: 'Enterprise',
};

/** Parses a tier name case-insensitively; `undefined` for anything else. */
export function parseTier(value: unknown): Tier | undefined {
  if (typeof value !== 'string') return undefined;
  const lower = value.toLowerCase();
  return TIERS.find((tier) => tier === lower);
}

/** The name operators read in logs and the admin API: `Community`, `Pro`, `Enterprise`. */
export function tierName(tier: Tier): TierName {
  return DISPLAY_NAMES[tier];
}

/** Negative when `a` is below `b`, zero when equal, positive when above. */
export function compareTiers(a: Tier, b: Tier): number {
  return TIERS.indexOf(a) - TIERS.indexOf(b);
}

export function isPaidTier(tier: Tier): boolean {
  return tier !== 'community';
}
