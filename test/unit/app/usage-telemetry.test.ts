import { beforeEach, describe, expect, it } from '@jest/globals';
import { CountingLicenseTelemetry } from '../../../src/app/telemetry/counting-license-telemetry.js';
import { UsageReportingTokenBackend } from '../../../src/app/telemetry/usage-reporting-token-backend.js';
import { parseApiKey } from '../../../src/domain/model/api-key.js';
import { BackendError } from '../../../src/domain/model/errors.js';
import { UsageCounters } from '../../../src/domain/telemetry/usage-counters.js';
import type { TokenRequest } from '../../../src/ports/token-backend.port.js';
import { RecordingTelemetry } from '../../support/recording-telemetry.js';
import { issued, ScriptedTokenBackend } from '../../support/scripted-token-backend.js';

const REQUEST: TokenRequest = { apiKey: parseApiKey('sk-usage-telemetry'), instanceId: 'instance-1', agentVersion: '1.0.0' };
const UNREACHABLE = new BackendError('BACKEND.UNREACHABLE', 'license backend at 127.0.0.1:1 is unreachable (connection refused)');

/** A monotonic clock moved by hand, in milliseconds. */
class ManualMonotonicClock {
  ms = 5_000; // an arbitrary origin: uptime counts from the agent's start, not from it
  elapsedMs(): number {
    return this.ms;
  }
}

describe('UsageReportingTokenBackend', () => {
  let counters: UsageCounters;
  let backend: ScriptedTokenBackend;
  let clock: ManualMonotonicClock;
  let reporting: UsageReportingTokenBackend;

  beforeEach(() => {
    counters = new UsageCounters();
    backend = new ScriptedTokenBackend(issued('eyJ.a.b'));
    clock = new ManualMonotonicClock();
    reporting = new UsageReportingTokenBackend(backend, counters, { platform: 'linux', clock });
  });

  const sentUsage = () => backend.requests.map((request) => request.usage);

  it('adds the counters, the whole seconds since the start and the platform to the request, the rest untouched', async () => {
    counters.quotaDenied('max_result_rows');
    counters.featureDenied('repl');
    counters.observeUsage('max_concurrent_queries', 3);
    clock.ms += 61_999;

    await reporting.requestToken(REQUEST);

    expect(backend.requests).toEqual([
      {
        ...REQUEST,
        usage: {
          quotaDenials: { max_result_rows: 1 },
          featureDenials: { repl: 1 },
          peakUsage: { max_concurrent_queries: 3 },
          uptimeSeconds: 61,
          platform: 'linux',
        },
      },
    ]);
  });

  it('after a successful send, sends only what came since', async () => {
    counters.quotaDenied('max_result_rows');
    await reporting.requestToken(REQUEST);
    await reporting.requestToken(REQUEST);

    expect(sentUsage().map((usage) => usage?.quotaDenials)).toEqual([{ max_result_rows: 1 }, {}]);
  });

  it('after a failed send, sends the same counts again with what came since, and passes the failure on', async () => {
    counters.quotaDenied('max_result_rows');
    backend.answer(UNREACHABLE, issued('eyJ.a.b'));

    await expect(reporting.requestToken(REQUEST)).rejects.toBe(UNREACHABLE);
    counters.quotaDenied('max_result_rows');
    await reporting.requestToken(REQUEST);
    await reporting.requestToken(REQUEST);

    expect(sentUsage().map((usage) => usage?.quotaDenials)).toEqual([{ max_result_rows: 1 }, { max_result_rows: 2 }, {}]);
  });

  it('keeps a denial counted while its request was in flight for the next send', async () => {
    counters.quotaDenied('max_joins');
    backend.answer(async () => {
      counters.quotaDenied('max_joins'); // arrives while the backend is answering
      return issued('eyJ.a.b');
    });
    await reporting.requestToken(REQUEST);
    backend.answer(issued('eyJ.a.b'));
    await reporting.requestToken(REQUEST);

    expect(sentUsage().map((usage) => usage?.quotaDenials)).toEqual([{ max_joins: 1 }, { max_joins: 1 }]);
  });

  it('a 401 is a failed send too: nothing is reset', async () => {
    counters.featureDenied('federation');
    backend.answer(new BackendError('BACKEND.REJECTED', 'revoked', { status: 401 }), issued('eyJ.a.b'));

    await expect(reporting.requestToken(REQUEST)).rejects.toThrow('revoked');
    await reporting.requestToken(REQUEST);

    expect(sentUsage().map((usage) => usage?.featureDenials)).toEqual([{ federation: 1 }, { federation: 1 }]);
  });
});

describe('CountingLicenseTelemetry', () => {
  let counters: UsageCounters;
  let recorded: RecordingTelemetry;
  let telemetry: CountingLicenseTelemetry;

  beforeEach(() => {
    counters = new UsageCounters();
    recorded = new RecordingTelemetry();
    telemetry = new CountingLicenseTelemetry(recorded, counters);
  });

  it('counts quota and feature denials and passes every event on', () => {
    telemetry.enforcementDenied({ kind: 'quota', name: 'max_result_rows', mode: 'enforce' });
    telemetry.enforcementDenied({ kind: 'quota', name: 'max_result_rows', mode: 'enforce' });
    telemetry.enforcementDenied({ kind: 'feature', name: 'flight_sql', mode: 'enforce' });
    telemetry.refreshFinished({ outcome: 'refreshed', reason: null });

    expect(counters.snapshot()).toMatchObject({ quotaDenials: { max_result_rows: 2 }, featureDenials: { flight_sql: 1 } });
    expect(recorded.denials).toHaveLength(3);
    expect(recorded.refreshes).toEqual([{ outcome: 'refreshed', reason: null }]);
  });

  it('counts a shadow-mode would-be denial like an enforced one', () => {
    const shadow = { kind: 'quota', name: 'max_joins', mode: 'shadow' } as const;
    telemetry.enforcementDenied(shadow);
    telemetry.enforcementDenied({ kind: 'quota', name: 'max_joins', mode: 'enforce' });

    expect(counters.snapshot().quotaDenials).toEqual({ max_joins: 2 });
    expect(recorded.denials[0]).toBe(shadow);
  });

  it('passes on, but never counts, a name that is not a quota or feature of the contract', () => {
    telemetry.enforcementDenied({ kind: 'quota', name: '/customers?id=42', mode: 'enforce' });
    telemetry.enforcementDenied({ kind: 'feature', name: 'max_joins', mode: 'enforce' });
    telemetry.enforcementDenied({ kind: 'quota', name: 'repl', mode: 'enforce' });

    expect(counters.snapshot()).toMatchObject({ quotaDenials: {}, featureDenials: {} });
    expect(recorded.denials).toHaveLength(3);
  });
});
