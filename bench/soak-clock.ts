import type { Clock } from '../src/ports/clock.port.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The soak's wall clock: the system clock plus an offset the soak moves, the way an NTP step, a VM
 * migration or an operator's `date -s` moves a real one. Bound to `TYPES.WallClock`; the agent's
 * high-water clock sits on top of it.
 */
export class OffsetWallClock implements Clock {
  #offsetMs = 0;
  #highestOffsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** The largest offset ever set: about where the agent's high-water mark runs relative to real time. */
  get highestOffsetMs(): number {
    return this.#highestOffsetMs;
  }

  jumpTo(offsetMs: number): void {
    this.#offsetMs = offsetMs;
    this.#highestOffsetMs = Math.max(this.#highestOffsetMs, offsetMs);
  }
}

export type JumpKind = 'forward_hours' | 'back_minutes' | 'back_past_tolerance' | 'back_hours' | 'catch_up';

export interface ClockJump {
  readonly kind: JumpKind;
  readonly toOffsetMs: number;
}

/**
 * How far the soak moves the wall clock. Forward jumps stop at `maxAheadMs`, far inside the
 * tokens' 30-day lifetime: the agent's trusted time never goes back, so a jump past expiry + grace
 * would (rightly) leave the agent in Community for the rest of the run and every later sample
 * would test nothing. With the clock kept inside validity, every loss of a paid tier is a bug.
 */
export const JUMP_BOUNDS = { maxAheadMs: 3 * DAY, maxBehindMs: 1 * DAY } as const;

const uniform = (random: () => number, low: number, high: number) => low + (high - low) * random();

/**
 * The next jump, from the current offset and the highest one so far (`random` in [0, 1)):
 * - `forward_hours`: 1–6 h ahead (at most `maxAheadMs` ahead of real time);
 * - `back_minutes`: 30 s – 4 min back, inside the agent's 5-minute rollback tolerance;
 * - `back_past_tolerance`: 6–50 min back: the clock turns suspect when it ends up more than
 *   5 minutes behind the high-water mark;
 * - `back_hours`: 1–8 h back (at most `maxBehindMs` behind real time);
 * - `catch_up`: to the highest offset so far (+0–2 min, still at most `maxAheadMs`): the wall clock
 *   catches up with the mark and suspicion clears.
 */
export function planJump(random: () => number, offsetMs: number, highestOffsetMs: number): ClockJump {
  const pick = random();
  const back = (kind: JumpKind, ms: number): ClockJump => ({ kind, toOffsetMs: Math.round(Math.max(-JUMP_BOUNDS.maxBehindMs, offsetMs - ms)) });
  if (pick < 0.25) {
    const to = offsetMs + uniform(random, 1, 6) * HOUR;
    if (to <= JUMP_BOUNDS.maxAheadMs) return { kind: 'forward_hours', toOffsetMs: Math.round(to) };
    return back('back_hours', uniform(random, 1, 8) * HOUR);
  }
  if (pick < 0.45) return back('back_minutes', uniform(random, 0.5, 4) * MINUTE);
  if (pick < 0.65) return back('back_past_tolerance', uniform(random, 6, 50) * MINUTE);
  if (pick < 0.8) return back('back_hours', uniform(random, 1, 8) * HOUR);
  return { kind: 'catch_up', toOffsetMs: Math.round(Math.min(JUMP_BOUNDS.maxAheadMs, highestOffsetMs + uniform(random, 0, 2) * MINUTE)) };
}

/** `+3h12m`, `-4m30s`, `0s`. */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  let rest = Math.round(Math.abs(ms) / 1000);
  if (rest === 0) return '0s';
  const days = Math.floor(rest / 86_400);
  rest -= days * 86_400;
  const hours = Math.floor(rest / 3_600);
  rest -= hours * 3_600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  const parts = [days > 0 ? `${days}d` : '', hours > 0 ? `${hours}h` : '', minutes > 0 ? `${minutes}m` : '', days === 0 && hours === 0 && seconds > 0 ? `${seconds}s` : ''];
  return sign + parts.join('');
}

/**
 * mulberry32: a seeded generator. `--seed` repeats the sequence of draws (modes, jumps, durations);
 * which loop draws next still follows timing, so a run is similar to, not a replay of, another.
 */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
