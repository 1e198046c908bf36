import { performance } from 'node:perf_hooks';
import type { AgentConfig } from '../src/app/config.js';
import { createLicenseAgent } from '../src/app/create-license-agent.js';
import type { AgentEnvironment } from '../test/support/agent-environment.js';
import { FakeLicenseBackend, issueToken } from '../test/support/fake-license-backend.js';
import { aLicenseToken } from '../test/support/signing-keys.js';
import { median, percentile, SILENT_LOGGER } from './bench-support.js';

const API_KEY = 'sk-bench-api-key';

export interface ResolutionTimes {
  readonly runs: number;
  /** `agent.start()`: the initial resolution. */
  readonly medianMs: number;
  readonly p95Ms: number;
  /** `createLicenseAgent()` + `agent.start()`: composing the agent as well. */
  readonly createAndStartMedianMs: number;
}

export interface WarmCacheResult {
  /** No API key: static, API key skipped, the cache answers. */
  readonly noApiKey: ResolutionTimes;
  /** An API key with the backend's port closed: a transient failure, then the cache answers. */
  readonly backendUnreachable: ResolutionTimes;
}

/**
 * Has the fake backend issue a Pro license to a real agent, which caches it on disk. That warm
 * cache directory is what every measured agent then starts from (and what start-up reuses).
 */
export async function warmTheCache(env: AgentEnvironment): Promise<void> {
  env.backend.handle(issueToken(await aLicenseToken(env.key, { tier: 'pro', orgName: 'Bench Org' })));
  const agent = await createLicenseAgent(
    env.config({ SOFTCLIENT4ES_API_KEY: API_KEY, SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: 'false' }),
    { logger: SILENT_LOGGER },
  );
  await agent.start();
  await agent.stop();
  const { license } = agent.current();
  if (license.source !== 'api_key' || license.tier !== 'pro') throw new Error(`warming the cache resolved ${license.tier} from ${license.source}`);
}

/** Resolution by fresh real agents from the warm cache, `runs` times per setup after `warmUp` runs. */
export async function measureWarmCacheResolution(env: AgentEnvironment, settings: { readonly runs: number; readonly warmUp: number }): Promise<WarmCacheResult> {
  const closed = await FakeLicenseBackend.start();
  const unreachableUrl = closed.url;
  await closed.stop();
  const noApiKey = env.config({ SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: 'false' });
  const backendUnreachable = env.config({
    SOFTCLIENT4ES_API_KEY: API_KEY,
    SOFTCLIENT4ES_LICENSE_URL: unreachableUrl,
    SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: 'false',
  });

  const measure = async (config: AgentConfig): Promise<ResolutionTimes> => {
    const start: number[] = [];
    const createAndStart: number[] = [];
    for (let run = 0; run < settings.warmUp + settings.runs; run += 1) {
      const t0 = performance.now();
      const agent = await createLicenseAgent(config, { logger: SILENT_LOGGER });
      const t1 = performance.now();
      await agent.start();
      const t2 = performance.now();
      await agent.stop();
      const { license } = agent.current();
      if (license.source !== 'cache' || license.tier !== 'pro') throw new Error(`expected Pro from the cache, resolved ${license.tier} from ${license.source}`);
      if (run >= settings.warmUp) {
        start.push(t2 - t1);
        createAndStart.push(t2 - t0);
      }
    }
    return { runs: settings.runs, medianMs: median(start), p95Ms: percentile(start, 95), createAndStartMedianMs: median(createAndStart) };
  };

  return { noApiKey: await measure(noApiKey), backendUnreachable: await measure(backendUnreachable) };
}
