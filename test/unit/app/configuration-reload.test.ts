import { beforeEach, describe, expect, it } from '@jest/globals';
import type { AgentConfig } from '../../../src/app/config.js';
import { ConfigurationReload } from '../../../src/app/reload/configuration-reload.js';
import { ReloadableLicenseVerifier } from '../../../src/app/reload/reloadable-license-verifier.js';
import { InstallLicense } from '../../../src/domain/installation/install-license.js';
import { RemoveInstalledLicense } from '../../../src/domain/installation/remove-installed-license.js';
import { TextGate } from '../../../src/domain/model/safe-text.js';
import { RefreshLicense } from '../../../src/domain/refresh/refresh-license.js';
import type { LicenseVerifier } from '../../../src/ports/license-verifier.port.js';
import { InMemoryInstalledLicenseStore } from '../../support/in-memory-installed-license-store.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { RecordingTelemetry } from '../../support/recording-telemetry.js';
import { resolutionHarness } from '../../support/resolution-harness.js';
import { gate as held, waitUntil } from '../../support/waiting.js';

/** No `*_FILE` secrets: a reload then reads only the trusted keys (here, a verifier build the test holds). */
const CONFIG = { secretFiles: { apiKey: null, staticLicenseJwt: null, adminToken: null } } as unknown as AgentConfig;

/** ConfigurationReload on fakes, next to the install and removal use cases that share its license sources. */
describe('ConfigurationReload next to runtime installs', () => {
  let h: ReturnType<typeof resolutionHarness>;
  let refresh: RefreshLicense;
  let store: InMemoryInstalledLicenseStore;
  let builds: Array<() => void>;
  let reload: ConfigurationReload;
  const textGate = new TextGate([]);
  const token = (tier: 'pro' | 'enterprise') => h.verifier.issue(aLicenseClaims(h.clock.now(), { tier }));

  beforeEach(() => {
    h = resolutionHarness();
    refresh = new RefreshLicense(h.build(), h.state, h.clock, new RecordingTelemetry(), h.logger);
    store = new InMemoryInstalledLicenseStore();
    builds = [];
    // Rebuilding the trusted keys (reading the JWKS files) takes a while; the test says when it is done.
    const verifier = new ReloadableLicenseVerifier(h.verifier, async () => {
      const done = held();
      builds.push(done.open);
      await done.opened;
      return h.verifier as LicenseVerifier;
    });
    reload = new ConfigurationReload({
      config: CONFIG,
      sources: h.sources,
      verifier,
      refresh,
      adminToken: null,
      addSecret: () => undefined,
      gate: textGate,
      clock: h.clock,
      logger: h.logger,
    });
  });

  /** Lets every pending continuation run (an unserialized change would complete meanwhile). */
  const settled = async () => {
    for (let i = 0; i < 20; i += 1) await Promise.resolve();
  };
  const install = (jwt: string) => new InstallLicense(h.sources, h.verifier, store, refresh, h.logger, textGate).execute(jwt);
  const remove = () => new RemoveInstalledLicense(h.sources, store, refresh, h.logger, textGate).execute();

  it('a license installed while a reload reads its files stays installed', async () => {
    const reloading = reload.execute();
    await waitUntil(() => builds.length === 1, 'the reload reads the trusted keys');
    const installing = install(token('pro'));
    await settled();
    builds[0]!();
    expect(await installing).toMatchObject({ kind: 'installed' });
    expect(await reloading).toMatchObject({ kind: 'reloaded' });
    await refresh.executeAfterChange();

    expect(store.jwt).not.toBeNull();
    expect(h.sources.current().installedLicenseJwt).toBe(store.jwt);
    expect(h.state.current().license).toMatchObject({ tier: 'pro', source: 'static' });
  });

  it('a license removed while a reload reads its files does not come back', async () => {
    await install(token('pro'));
    const reloading = reload.execute();
    await waitUntil(() => builds.length === 1, 'the reload reads the trusted keys');
    const removing = remove();
    await settled();
    builds[0]!();
    expect(await removing).toMatchObject({ kind: 'removed' });
    expect(await reloading).toMatchObject({ kind: 'reloaded' });
    await refresh.executeAfterChange();

    expect(store.jwt).toBeNull();
    expect(h.sources.current().installedLicenseJwt).toBeNull();
    expect(h.state.current().license.source).toBe('community');
  });
});

describe('ConfigurationReload and an unexpected error', () => {
  it('says it in the status before throwing it on: the status never keeps showing an earlier good reload', async () => {
    const h = resolutionHarness();
    const bug = new RangeError('a plugin bug');
    const verifier = new ReloadableLicenseVerifier(h.verifier, async () => {
      throw bug;
    });
    const reload = new ConfigurationReload({
      config: CONFIG,
      sources: h.sources,
      verifier,
      refresh: new RefreshLicense(h.build(), h.state, h.clock, new RecordingTelemetry(), h.logger),
      adminToken: null,
      addSecret: () => undefined,
      gate: new TextGate([]),
      clock: h.clock,
      logger: h.logger,
    });

    await expect(reload.execute()).rejects.toBe(bug);

    expect(reload.status()).toEqual({ lastAt: h.clock.now(), lastError: 'unexpected internal error (see the log)' });
  });
});
