/**
 * `npm run bench:fleet`: the license backend's load from 10,000 standalone agents and from 100 fleets
 * of 100, simulated over a virtual clock with the agent's own scheduling code (`nextRefreshDelay`,
 * `delayAfterTakeover`, `refreshSchedulePolicy`): two days of steady state, a 6-hour backend outage,
 * then recovery. Deterministic (seeded); runs in a second or two. Numbers are computed, not asserted.
 */
import type { LicenseSnapshot } from '../src/domain/model/license-state.js';
import { nextRefreshDelay, refreshSchedulePolicy, type RefreshSchedulePolicy } from '../src/domain/refresh/refresh-schedule.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const SCENARIO = {
  /** The configured refresh interval (the default). */
  intervalMs: DAY,
  /** The backend's tokens live 24 h: refreshes come at 80 % of that, 19.2 h, with jitter. */
  tokenLifetimeMs: DAY,
  steadyMs: 2 * DAY,
  outageMs: 6 * HOUR,
  /** Simulated after the outage ends. */
  afterMs: DAY,
} as const;

/** A reproducible stream of numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A binary min-heap of (time, who) events: the virtual clock's agenda. */
class Agenda {
  readonly #times: number[] = [];
  readonly #who: number[] = [];

  push(time: number, who: number): void {
    const times = this.#times;
    const who_ = this.#who;
    let i = times.length;
    times.push(time);
    who_.push(who);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= time) break;
      times[i] = times[parent]!;
      who_[i] = who_[parent]!;
      i = parent;
    }
    times[i] = time;
    who_[i] = who;
  }

  pop(): [number, number] | null {
    const times = this.#times;
    const who_ = this.#who;
    if (times.length === 0) return null;
    const top: [number, number] = [times[0]!, who_[0]!];
    const lastTime = times.pop()!;
    const lastWho = who_.pop()!;
    if (times.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= times.length) break;
        const child = left + 1 < times.length && times[left + 1]! < times[left]! ? left + 1 : left;
        if (times[child]! >= lastTime) break;
        times[i] = times[child]!;
        who_[i] = who_[child]!;
        i = child;
      }
      times[i] = lastTime;
      who_[i] = lastWho;
    }
    return top;
  }
}

export interface LoadReport {
  readonly label: string;
  /** Backend requests per minute over the steady state (the second day). */
  readonly steadyMeanPerMinute: number;
  /** In the hour after the backend came back. */
  readonly recoveryPeakPerMinute: number;
  readonly recoveryMeanPerMinute: number;
  /** Backend calls per refresh period (80 % of the token lifetime) in steady state, per refresher. */
  readonly callsPerPeriodPerRefresher: number;
  readonly refreshers: number;
  /** From the backend's return until the last agent that had failed holds a license fetched since. */
  readonly timeToAllFreshMs: number;
  /** In the 6 h after recovery: the busiest hour over the average steady hour (a synchronised wave shows here). */
  readonly waveRatio: number;
}

/**
 * Simulates `refreshers` agents that call the backend on their own schedule — standalone agents, or
 * the lease holders of fleets (whose followers adopt what their holder publishes and call nothing).
 * `members` agents per refresher count towards "every instance holds a fresh license".
 */
export function simulate(label: string, refreshers: number, policy: RefreshSchedulePolicy, seed: number): LoadReport {
  const random = seededRandom(seed);
  const { tokenLifetimeMs, steadyMs, outageMs, afterMs } = SCENARIO;
  const outageStart = steadyMs;
  const outageEnd = steadyMs + outageMs;
  const end = outageEnd + afterMs;
  const perMinute = new Uint32Array(Math.ceil(end / MINUTE) + 1);
  const failures = new Uint16Array(refreshers);
  /** The license in force of each refresher (the last one it fetched). */
  const expiries: LicenseSnapshot[] = Array.from({ length: refreshers }, () => snapshotExpiringAt(Number.NaN));
  const agenda = new Agenda();
  let lastRecovery = outageEnd;
  // Deployed at random times over the first day; each resolves (calls the backend) at start-up.
  for (let i = 0; i < refreshers; i += 1) agenda.push(random() * DAY, i);
  for (let event = agenda.pop(); event !== null; event = agenda.pop()) {
    const [now, who] = event;
    if (now >= end) break;
    perMinute[Math.floor(now / MINUTE)]! += 1;
    const down = now >= outageStart && now < outageEnd;
    const at = new Date(now);
    let delay: number;
    if (down) {
      failures[who]! += 1;
      delay = nextRefreshDelay({ status: 'failed', permanent: false, retryAfterMs: null, snapshot: expiries[who]! }, failures[who]!, at, policy, random);
    } else {
      if (failures[who]! > 0 && now >= outageEnd) lastRecovery = Math.max(lastRecovery, now);
      failures[who] = 0;
      expiries[who] = snapshotExpiringAt(now + tokenLifetimeMs);
      delay = nextRefreshDelay({ status: 'refreshed', permanent: false, retryAfterMs: null, snapshot: expiries[who]! }, 0, at, policy, random);
    }
    agenda.push(now + delay, who);
  }
  const minutes = (from: number, to: number) => Array.from(perMinute.subarray(Math.floor(from / MINUTE), Math.floor(to / MINUTE)));
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const steady = minutes(DAY, 2 * DAY);
  const recovery = minutes(outageEnd, outageEnd + HOUR);
  const steadyMean = sum(steady) / steady.length;
  const hours = Array.from({ length: 6 }, (_, h) => sum(minutes(outageEnd + h * HOUR, outageEnd + (h + 1) * HOUR)));
  const periodMs = 0.8 * tokenLifetimeMs;
  return {
    label,
    steadyMeanPerMinute: steadyMean,
    recoveryPeakPerMinute: Math.max(...recovery),
    recoveryMeanPerMinute: sum(recovery) / recovery.length,
    callsPerPeriodPerRefresher: (steadyMean * (periodMs / MINUTE)) / refreshers,
    refreshers,
    timeToAllFreshMs: lastRecovery - outageEnd,
    waveRatio: Math.max(...hours) / (steadyMean * 60),
  };
}

/** What the schedule reads of a snapshot: the expiry of the license in force. */
function snapshotExpiringAt(ms: number): LicenseSnapshot {
  return { license: { expiresAt: new Date(ms), graceEndsAtMs: ms + 14 * DAY } } as unknown as LicenseSnapshot;
}

const fmt = (value: number, digits = 1) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const duration = (ms: number) => (ms >= HOUR ? `${fmt(ms / HOUR, 2)} h` : `${fmt(ms / MINUTE, 1)} min`);

export function formatReports(reports: readonly LoadReport[]): string {
  const header = ['Scenario', 'Backend calls / refresh period', 'Steady req/min (mean)', 'After recovery: peak req/min', 'mean req/min', 'peak/mean', 'Busiest hour / steady hour (6 h after)', 'All fresh after'];
  const rows = reports.map((r) => [
    r.label,
    `${fmt(r.callsPerPeriodPerRefresher * r.refreshers, 0)} (${fmt(r.callsPerPeriodPerRefresher, 2)} per refresher)`,
    fmt(r.steadyMeanPerMinute, 2),
    fmt(r.recoveryPeakPerMinute, 0),
    fmt(r.recoveryMeanPerMinute, 1),
    fmt(r.recoveryPeakPerMinute / r.recoveryMeanPerMinute, 2),
    fmt(r.waveRatio, 2),
    duration(r.timeToAllFreshMs),
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function main(): void {
  const policy = refreshSchedulePolicy(SCENARIO.intervalMs);
  const standalone = simulate('10,000 standalone agents', 10_000, policy, 1);
  const fleets = simulate('100 fleets of 100 (one lease holder each)', 100, policy, 2);
  const ratio = standalone.recoveryPeakPerMinute / standalone.recoveryMeanPerMinute;
  const perFleet = fleets.callsPerPeriodPerRefresher;
  process.stdout.write(
    `Backend load: 2 days steady, a ${SCENARIO.outageMs / HOUR} h outage, then recovery (24 h tokens, interval ${SCENARIO.intervalMs / HOUR} h; virtual clock, seeded)\n\n` +
      `${formatReports([standalone, fleets])}\n\n` +
      `Standalone peak/mean in the hour after recovery: ${fmt(ratio, 2)} (target <= 1.5): ${ratio <= 1.5 ? 'PASS' : 'FAIL'}\n` +
      `Fleet mode: backend calls per refresh period ${fmt(perFleet * fleets.refreshers, 0)} for ${fleets.refreshers} fleets of 100 members ` +
      `(${fmt(perFleet, 2)} per fleet; standalone: ${fmt(standalone.callsPerPeriodPerRefresher, 2)} per agent): one call per fleet, not per member\n`,
  );
}

if (process.argv[1]?.endsWith('fleet-load.js')) main();
