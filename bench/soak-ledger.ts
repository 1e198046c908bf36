import type { Tier } from '../src/domain/model/tier.js';

/** A 200 the backend served with a token the agent should accept when it reads it. */
export interface AcceptableAnswer {
  /** When the backend finished writing it (monotonic ms, `performance.now()`). */
  readonly at: number;
  readonly tier: Exclude<Tier, 'community'>;
  /** The token's `exp` plus the grace period, epoch ms: past it, Community is legitimate. */
  readonly graceEndsAtMs: number;
}

/** One observation of the tier in force. */
export interface TierSample {
  readonly source: SampleSource;
  /** When the observation began (the request was sent; monotonic ms). */
  readonly sentAt: number;
  /** When it ended (the answer arrived; monotonic ms). */
  readonly observedAt: number;
  readonly tier: Tier;
  /** The agent's own time (its high-water clock) at `observedAt`, epoch ms. */
  readonly agentNowMs: number;
}

/** `load`: a `/demo/query` answer; `probe`: `agent.current()` read in-process; `status`: `GET /admin/license`. */
export type SampleSource = 'load' | 'probe' | 'status';

export type Finding = 'loss' | 'tier_lag';

export type Verdict =
  | 'ok'
  /** No acceptable answer yet (start-up), or the last one had expired past grace on the agent's clock. */
  | 'no_license_due'
  /** Community, though an acceptable answer was served before and is still valid, and no 401 since. */
  | 'loss'
  /** The same, but the backend answered 401 since: the fall-through to the cache is the agent's right. */
  | 'loss_after_401'
  /** A paid tier other than the one last served (nor one served while the request was in flight). */
  | 'tier_lag'
  | 'tier_lag_after_401';

/** A run of findings of one kind, no more than `EPISODE_GAP_MS` apart. */
export interface Episode {
  readonly verdict: Exclude<Verdict, 'ok' | 'no_license_due'>;
  readonly startedAt: number;
  endedAt: number;
  samples: number;
  readonly sources: Record<SampleSource, number>;
  /** What had happened just before the first sample (the soak's event log). */
  readonly context: readonly string[];
}

const EPISODE_GAP_MS = 2_000;
const EPISODES_KEPT = 20;
const ANSWERS_KEPT = 256;

/**
 * The soak's judge of "valid-license losses". A sample is a loss when the tier in force is
 * Community although the backend served, at least `settleMs` before the sample began, a 200 whose
 * token the agent should have accepted (signature, issuer, `iat` no later than the agent's clock
 * plus its 60 s tolerance, not past `exp` + grace), that token is still within `exp` + grace on the
 * agent's clock, and the backend has not answered 401 since. `settleMs` covers the few milliseconds
 * between the backend writing a token and the agent installing it. A paid tier other than the last
 * one served (or one served while the sample was in flight) is a tier lag. Bounded memory: the
 * last `ANSWERS_KEPT` answers, the first `EPISODES_KEPT` episodes, counters for the rest.
 */
export class SoakLedger {
  readonly counts: Record<Verdict, number> = { ok: 0, no_license_due: 0, loss: 0, loss_after_401: 0, tier_lag: 0, tier_lag_after_401: 0 };
  readonly samplesBySource: Record<SampleSource, number> = { load: 0, probe: 0, status: 0 };
  readonly episodes: Episode[] = [];
  readonly episodeCount: Record<Episode['verdict'], number> = { loss: 0, loss_after_401: 0, tier_lag: 0, tier_lag_after_401: 0 };
  readonly #answers: AcceptableAnswer[] = [];
  #lastRevokedAt = Number.NEGATIVE_INFINITY;
  readonly #open = new Map<Episode['verdict'], Episode>();

  constructor(
    private readonly settleMs: number,
    private readonly context: () => readonly string[] = () => [],
  ) {}

  /** The backend served a token the agent should accept. */
  acceptable(answer: AcceptableAnswer): void {
    this.#answers.push(answer);
    if (this.#answers.length > ANSWERS_KEPT) this.#answers.splice(0, this.#answers.length - ANSWERS_KEPT);
  }

  /** The backend answered 401 with its JSON error (a definitive rejection of the API key). */
  revoked(at: number): void {
    this.#lastRevokedAt = Math.max(this.#lastRevokedAt, at);
  }

  record(sample: TierSample): Verdict {
    const verdict = this.judge(sample);
    this.counts[verdict] += 1;
    this.samplesBySource[sample.source] += 1;
    if (verdict !== 'ok' && verdict !== 'no_license_due') this.#episode(verdict, sample);
    return verdict;
  }

  judge({ sentAt, observedAt, tier, agentNowMs }: TierSample): Verdict {
    let settled = -1;
    for (let i = this.#answers.length - 1; i >= 0; i -= 1) {
      if ((this.#answers[i] as AcceptableAnswer).at + this.settleMs <= sentAt) {
        settled = i;
        break;
      }
    }
    if (settled < 0) return 'no_license_due';
    const answer = this.#answers[settled] as AcceptableAnswer;
    if (agentNowMs > answer.graceEndsAtMs) return 'no_license_due';
    const revokedSince = this.#lastRevokedAt > answer.at;
    if (tier === 'community') return revokedSince ? 'loss_after_401' : 'loss';
    if (tier === answer.tier) return 'ok';
    for (let i = settled + 1; i < this.#answers.length; i += 1) {
      const later = this.#answers[i] as AcceptableAnswer;
      if (later.at <= observedAt && later.tier === tier) return 'ok';
    }
    return revokedSince ? 'tier_lag_after_401' : 'tier_lag';
  }

  #episode(verdict: Episode['verdict'], sample: TierSample): void {
    const open = this.#open.get(verdict);
    if (open !== undefined && sample.observedAt - open.endedAt <= EPISODE_GAP_MS) {
      open.endedAt = Math.max(open.endedAt, sample.observedAt);
      open.samples += 1;
      open.sources[sample.source] += 1;
      return;
    }
    this.episodeCount[verdict] += 1;
    const episode: Episode = {
      verdict,
      startedAt: sample.sentAt,
      endedAt: sample.observedAt,
      samples: 1,
      sources: { load: 0, probe: 0, status: 0, [sample.source]: 1 },
      context: [...this.context()],
    };
    this.#open.set(verdict, episode);
    if (this.episodes.length < EPISODES_KEPT) this.episodes.push(episode);
  }
}
