import { GraceWarnings } from '../../src/domain/expiry/grace-warnings.js';
import { LicenseState } from '../../src/domain/model/license-state.js';
import { BackendLicenseStep } from '../../src/domain/resolution/backend-license.step.js';
import { CachedLicenseStep } from '../../src/domain/resolution/cached-license.step.js';
import { ResolveLicense } from '../../src/domain/resolution/resolve-license.js';
import { StaticLicenseStep } from '../../src/domain/resolution/static-license.step.js';
import { ConditionLog } from '../../src/domain/logging/condition-log.js';
import { TextGate } from '../../src/domain/model/safe-text.js';
import { CurrentLicenseSources } from '../../src/domain/model/license-sources.js';
import { FakeLicenseVerifier } from './fake-license-verifier.js';
import { InMemoryTrustedTime } from './in-memory-trusted-time.js';
import { DAY, FixedClock } from './fixed-clock.js';
import { InMemoryLicenseCache } from './in-memory-license-cache.js';
import { RecordingLogger } from './recording-logger.js';
import { ScriptedTokenBackend } from './scripted-token-backend.js';

export const INSTANCE_ID = '6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f';
export const GRACE_PERIOD_MS = 14 * DAY;
export const API_KEY = 'sk-test-0123456789';

export interface HarnessOptions {
  readonly staticJwt?: string | null;
  readonly apiKey?: string | null;
  /** A license installed at runtime (`PUT /admin/license`). */
  readonly installedJwt?: string | null;
}

/** ResolveLicense on hand-written fakes; every part is exposed for scripting and assertions. */
export function resolutionHarness() {
  const clock = new FixedClock();
  const logger = new RecordingLogger();
  const verifier = new FakeLicenseVerifier(clock, { gracePeriodMs: GRACE_PERIOD_MS, instanceId: INSTANCE_ID });
  const backend = new ScriptedTokenBackend();
  const cache = new InMemoryLicenseCache();
  const state = new LicenseState(clock.now());
  const graceWarnings = new GraceWarnings(clock, logger);
  const trustedTime = new InMemoryTrustedTime();
  const gate = new TextGate([API_KEY]);

  /** The sources the last `build` read from: update them to play a reload or an install. */
  const sources = new CurrentLicenseSources({ staticLicenseJwt: null, installedLicenseJwt: null, apiKey: null });
  const build = ({ staticJwt = null, apiKey = null, installedJwt = null }: HarnessOptions = {}): ResolveLicense => {
    sources.update({ staticLicenseJwt: staticJwt, apiKey, installedLicenseJwt: installedJwt });
    return new ResolveLicense(
      new StaticLicenseStep(sources, verifier, logger, gate),
      new BackendLicenseStep(
        { instanceId: INSTANCE_ID, agentVersion: '9.9.9' },
        sources,
        backend,
        verifier,
        cache,
        trustedTime,
        logger,
        gate,
        new ConditionLog(logger, clock),
      ),
      new CachedLicenseStep(cache, verifier, trustedTime, logger, gate),
      state,
      graceWarnings,
      trustedTime,
      clock,
      logger,
      { apiKeyConfigured: apiKey !== null, gracePeriodMs: GRACE_PERIOD_MS },
    );
  };

  return { clock, logger, verifier, backend, cache, state, trustedTime, sources, build };
}
