import { beforeEach, describe, expect, it } from '@jest/globals';
import { InstallLicense } from '../../../src/domain/installation/install-license.js';
import { RemoveInstalledLicense } from '../../../src/domain/installation/remove-installed-license.js';
import { CacheError } from '../../../src/domain/model/errors.js';
import { REDACTED, TextGate } from '../../../src/domain/model/safe-text.js';
import { RefreshLicense } from '../../../src/domain/refresh/refresh-license.js';
import { InMemoryInstalledLicenseStore } from '../../support/in-memory-installed-license-store.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { RecordingTelemetry } from '../../support/recording-telemetry.js';
import { API_KEY, resolutionHarness } from '../../support/resolution-harness.js';
import { issued } from '../../support/scripted-token-backend.js';
import { waitUntil } from '../../support/waiting.js';

describe('installing a license at runtime', () => {
  let h: ReturnType<typeof resolutionHarness>;
  let store: InMemoryInstalledLicenseStore;
  let refresh: RefreshLicense;
  const gate = new TextGate([]);
  const token = (overrides: Parameters<typeof aLicenseClaims>[1] = {}) => h.verifier.issue(aLicenseClaims(h.clock.now(), overrides));
  const install = () => new InstallLicense(h.sources, h.verifier, store, refresh, h.logger, gate);
  const remove = () => new RemoveInstalledLicense(h.sources, store, refresh, h.logger, gate);
  const build = (options: Parameters<ReturnType<typeof resolutionHarness>['build']>[0] = {}) => {
    refresh = new RefreshLicense(h.build(options), h.state, h.clock, new RecordingTelemetry(), h.logger);
  };

  beforeEach(() => {
    h = resolutionHarness();
    store = new InMemoryInstalledLicenseStore();
  });

  describe('InstallLicense', () => {
    it('verifies, stores, and puts the license in force at once, ahead of the API key', async () => {
      h.backend.answer(issued(token({ tier: 'pro' })));
      build({ apiKey: API_KEY });
      await refresh.execute();
      const jwt = token({ tier: 'enterprise' });

      const result = await install().execute(jwt);

      expect(result).toMatchObject({ kind: 'installed', outcome: { previousTier: 'pro' } });
      expect(store.jwt).toBe(jwt);
      expect(h.state.current().license).toMatchObject({ tier: 'enterprise', source: 'static' });
      expect(h.backend.requests).toHaveLength(1); // the static step ended the new resolution
      expect(h.state.current().resolution[0]).toMatchObject({ source: 'static', outcome: 'used', message: 'installed license (PUT /admin/license)' });
      expect(h.logger.at('info')).toContainEqual(expect.stringMatching(/^License installed: Enterprise until /));
    });

    it('refuses a token that does not verify with its code: nothing stored, nothing changed', async () => {
      build();
      await refresh.execute();

      const result = await install().execute('not-a-token');

      expect(result).toEqual({ kind: 'rejected', failure: { code: 'LICENSE.SIGNATURE_INVALID', message: 'license token signature does not verify' } });
      expect(store.jwt).toBeNull();
      expect(h.sources.current().installedLicenseJwt).toBeNull();
      expect(h.state.current().license.source).toBe('community');
    });

    it('is refused while a static JWT is configured, which takes precedence', async () => {
      build({ staticJwt: token({ tier: 'pro' }) });

      expect(await install().execute(token({ tier: 'enterprise' }))).toEqual({ kind: 'static_configured' });
      expect(store.jwt).toBeNull();
    });

    it('is not installed when it cannot be stored: it would not survive a restart', async () => {
      build();
      store.failWith = new CacheError('CACHE.UNSAFE_DIRECTORY', 'cache directory /x is not used: writable by others');

      const result = await install().execute(token());

      expect(result).toMatchObject({ kind: 'not_saved', failure: { code: 'CACHE.UNSAFE_DIRECTORY' } });
      expect(h.sources.current().installedLicenseJwt).toBeNull();
      expect(h.state.current().license.source).toBe('community');
    });

    it('does not answer with a resolution that started before the install', async () => {
      let release: () => void = () => undefined;
      h.backend.answer(() => new Promise((resolve) => (release = () => resolve(issued(token({ tier: 'pro' }))))));
      build({ apiKey: API_KEY });
      const running = refresh.execute();

      await waitUntil(() => h.backend.requests.length === 1, 'the backend is asked');
      const installing = install().execute(token({ tier: 'enterprise' }));
      release();
      await running;

      expect(await installing).toMatchObject({ kind: 'installed', outcome: { snapshot: { license: { tier: 'enterprise' } } } });
    });
  });

  describe('RemoveInstalledLicense', () => {
    it('removes the stored copy and resolves again without it', async () => {
      build();
      await install().execute(token({ tier: 'pro' }));

      const result = await remove().execute();

      expect(result).toMatchObject({ kind: 'removed', outcome: { previousTier: 'pro', snapshot: { license: { source: 'community' } } } });
      expect(store.jwt).toBeNull();
      expect(h.logger.at('info')).toContain('Installed license removed');
    });

    it('is the operator\'s choice, not a lost license: Community afterwards is not degraded, as after a restart without it', async () => {
      build();
      await install().execute(token({ tier: 'pro' }));

      const result = await remove().execute();

      expect(result).toMatchObject({ kind: 'removed', outcome: { snapshot: { license: { source: 'community' }, degraded: false } } });
      expect(h.logger.at('info')).toContain('License downgraded from Pro to Community');
    });

    it('says so when none is installed', async () => {
      build();
      expect(await remove().execute()).toEqual({ kind: 'none' });
    });

    it('keeps the license installed when the stored copy cannot be removed', async () => {
      build();
      await install().execute(token({ tier: 'pro' }));
      store.failWith = new CacheError('CACHE.IO_FAILED', 'could not remove');

      expect(await remove().execute()).toMatchObject({ kind: 'not_removed', failure: { code: 'CACHE.IO_FAILED' } });
      expect(h.state.current().license.tier).toBe('pro');
    });
  });

  describe('what an install or a removal logs', () => {
    const SECRET = 'sk-live-0123456789abcdef';
    const gated = () => new TextGate([SECRET]);

    it('an install says the tier and expiry at INFO, with the token\'s fingerprint and key id', async () => {
      build();
      const expiresAt = new Date(h.clock.now().getTime() + 30 * 86_400_000);

      await install().execute(token({ tier: 'enterprise', expiresAt }));

      expect(h.logger.entries).toContainEqual({
        level: 'info',
        message: `License installed: Enterprise until ${expiresAt.toISOString()}`,
        fields: { fingerprint: '0123456789abcdef', kid: 'fake-kid' },
      });
    });

    it('a token that does not verify: one WARN with the reason and the code', async () => {
      build();

      await install().execute('not-a-token');

      expect(h.logger.entries).toEqual([
        { level: 'warn', message: 'License not installed: license token signature does not verify', fields: { code: 'LICENSE.SIGNATURE_INVALID' } },
      ]);
    });

    it('a verifier that fails for another reason than the token: the error reaches the caller, nothing stored', async () => {
      build();
      const bug = new TypeError('verifier bug');
      const broken = new InstallLicense(h.sources, { verify: async () => Promise.reject(bug) }, store, refresh, h.logger, gate);

      await expect(broken.execute(token())).rejects.toBe(bug);
      expect(store.jwt).toBeNull();
      expect(h.logger.entries).toEqual([]);
    });

    it('a store that refuses: one ERROR with the reason, gated, and the code', async () => {
      build();
      store.failWith = new CacheError('CACHE.IO_FAILED', `could not write /x (EACCES) ${SECRET}`);

      const result = await new InstallLicense(h.sources, h.verifier, store, refresh, h.logger, gated()).execute(token());

      expect(result).toEqual({ kind: 'not_saved', failure: { code: 'CACHE.IO_FAILED', message: `could not write /x (EACCES) ${REDACTED}` } });
      expect(h.logger.entries).toEqual([
        { level: 'error', message: `License not installed: it could not be stored (could not write /x (EACCES) ${REDACTED})`, fields: { code: 'CACHE.IO_FAILED' } },
      ]);
    });

    it('a removal says so at INFO; one the store refuses is an ERROR with the reason, gated, and the code', async () => {
      build();
      await install().execute(token({ tier: 'pro' }));
      store.failWith = new CacheError('CACHE.IO_FAILED', `could not remove ${SECRET}`);
      h.logger.clear();

      const result = await new RemoveInstalledLicense(h.sources, store, refresh, h.logger, gated()).execute();

      expect(result).toEqual({ kind: 'not_removed', failure: { code: 'CACHE.IO_FAILED', message: `could not remove ${REDACTED}` } });
      expect(h.logger.entries).toEqual([{ level: 'error', message: `Installed license not removed: could not remove ${REDACTED}`, fields: { code: 'CACHE.IO_FAILED' } }]);
      expect(h.sources.current().installedLicenseJwt).not.toBeNull();

      store.failWith = null;
      h.logger.clear();
      await remove().execute();
      expect(h.logger.entries).toContainEqual({ level: 'info', message: 'Installed license removed', fields: {} });
    });

    it('removes a license in force that the store no longer holds, and a stored one not in force', async () => {
      build({ installedJwt: token({ tier: 'pro' }) });
      expect(await remove().execute()).toMatchObject({ kind: 'removed' });
      expect(h.sources.current().installedLicenseJwt).toBeNull();

      store.jwt = token({ tier: 'enterprise' });
      expect(await remove().execute()).toMatchObject({ kind: 'removed' });
      expect(store.jwt).toBeNull();
    });
  });

  describe('concurrent installs and removals', () => {
    /**
     * The file store's commit point (the rename) comes before its save settles (the directory
     * fsync): here a held save has already replaced the stored JWT and waits to return.
     */
    class SlowToSettleStore extends InMemoryInstalledLicenseStore {
      readonly held: Array<() => void> = [];
      holdNextSave = false;

      override async save(jwt: string): Promise<void> {
        await super.save(jwt);
        if (!this.holdNextSave) return;
        this.holdNextSave = false;
        await new Promise<void>((resolve) => this.held.push(resolve));
      }
    }

    const settled = async () => {
      for (let i = 0; i < 20; i += 1) await Promise.resolve();
    };

    it('two installs at once: the license in force is the one stored, whichever save settles last', async () => {
      const slow = new SlowToSettleStore();
      store = slow;
      build();
      const pro = token({ tier: 'pro' });
      const enterprise = token({ tier: 'enterprise' });

      slow.holdNextSave = true;
      const first = install().execute(pro);
      await waitUntil(() => slow.held.length === 1, 'the first save is held');
      const second = install().execute(enterprise);
      await settled();
      slow.held[0]!();
      await Promise.all([first, second]);
      await refresh.executeAfterChange();

      expect(h.sources.current().installedLicenseJwt).toBe(store.jwt);
      expect(h.state.current().license.tier).toBe(store.jwt === pro ? 'pro' : 'enterprise');
    });

    it('a removal while an install is being saved: what is in force matches what survives a restart', async () => {
      const slow = new SlowToSettleStore();
      store = slow;
      build();

      slow.holdNextSave = true;
      const installing = install().execute(token({ tier: 'pro' }));
      await waitUntil(() => slow.held.length === 1, 'the save is held');
      const removing = remove().execute();
      await settled();
      slow.held[0]!();
      const [installed, removed] = await Promise.all([installing, removing]);
      await refresh.executeAfterChange();

      expect(installed.kind).toBe('installed');
      expect(removed.kind).toBe('removed'); // it came after the install: it removes what the install stored
      expect(store.jwt).toBeNull();
      expect(h.sources.current().installedLicenseJwt).toBeNull();
      expect(h.state.current().license.source).toBe('community');
    });
  });

  describe('the resolution reads the sources in force at each attempt', () => {
    it('a configured static JWT wins over the installed one', async () => {
      const resolve = h.build({ staticJwt: token({ tier: 'pro' }), installedJwt: token({ tier: 'enterprise' }) });
      expect((await resolve.execute()).snapshot.license.tier).toBe('pro');
    });

    it('a replaced API key is the one sent at the next attempt', async () => {
      h.backend.answer(issued(token()));
      const resolve = h.build({ apiKey: API_KEY });
      await resolve.execute();
      h.sources.update({ apiKey: 'sk-rotated-key' });
      await resolve.execute();

      expect(h.backend.requests.map((request) => request.apiKey)).toEqual([API_KEY, 'sk-rotated-key']);
    });
  });
});
