import { ContainerModule } from 'inversify';
import { loadOrCreateAdminToken } from '../../adapters/fs/admin-token-file.js';
import { FileInstalledLicenseStore } from '../../adapters/fs/file-installed-license-store.js';
import { MachineIdHostFingerprint } from '../../adapters/system/machine-id-fingerprint.js';
import type { HostFingerprint } from '../../ports/host-fingerprint.port.js';
import { StateDirectory, UntrustedDirectoryError } from '../../adapters/fs/state-directory.js';
import { LowdbInstanceIdStore } from '../../adapters/lowdb/lowdb-instance-id-store.js';
import { LowdbHighWaterMarkStore } from '../../adapters/lowdb/lowdb-high-water-mark-store.js';
import { LowdbLicenseCache } from '../../adapters/lowdb/lowdb-license-cache.js';
import type { Clock } from '../../ports/clock.port.js';
import type { InstanceIdStore } from '../../ports/instance-id-store.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';

/** The cache directory shared by everything below: one gate, one WARN when it is not trusted. Private to this module. */
const CACHE_DIRECTORY = Symbol('softclient4es.lowdb.CacheDirectory');

/**
 * Everything kept in the cache directory: license cache, instance id (with the host's fingerprint,
 * for clone detection), clock high-water mark, installed license, generated admin token.
 */
export function lowdbStorageModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(CACHE_DIRECTORY)
      .toResolvedValue((config: AgentConfig, logger: Logger) => openCacheDirectory(config.cacheDir, logger), [TYPES.Config, TYPES.Logger])
      .inSingletonScope();
    bind(TYPES.LicenseCache)
      .toResolvedValue((directory: StateDirectory, clock: Clock) => new LowdbLicenseCache(directory, clock), [CACHE_DIRECTORY, TYPES.Clock])
      .inSingletonScope();
    bind(TYPES.HighWaterMarkStore)
      .toResolvedValue((directory: StateDirectory) => new LowdbHighWaterMarkStore(directory), [CACHE_DIRECTORY])
      .inSingletonScope();
    bind(TYPES.HostFingerprint).toConstantValue(new MachineIdHostFingerprint());
    bind(TYPES.InstanceIdStore)
      .toResolvedValue(
        (directory: StateDirectory, logger: Logger, config: AgentConfig, host: HostFingerprint) =>
          new LowdbInstanceIdStore(directory, logger, { host, onClone: config.instanceOnClone }),
        [CACHE_DIRECTORY, TYPES.Logger, TYPES.Config, TYPES.HostFingerprint],
      )
      .inSingletonScope();
    bind(TYPES.InstalledLicenseStore)
      .toResolvedValue((directory: StateDirectory) => new FileInstalledLicenseStore(directory), [CACHE_DIRECTORY])
      .inSingletonScope();
    bind(TYPES.InstanceId)
      .toResolvedValue((store: InstanceIdStore) => store.load(), [TYPES.InstanceIdStore])
      .inSingletonScope();
    bind(TYPES.AdminToken)
      .toResolvedValue(
        (config: AgentConfig, logger: Logger, directory: StateDirectory) => adminToken(config, logger, directory),
        [TYPES.Config, TYPES.Logger, CACHE_DIRECTORY],
      )
      .inSingletonScope();
  });
}

/**
 * The cache directory, checked once at start-up (a WARN when it is not trusted) and cleared of the
 * temporary files an interrupted write left behind, before anything reads it.
 */
async function openCacheDirectory(path: string, logger: Logger): Promise<StateDirectory> {
  const directory = new StateDirectory(path, logger);
  try {
    await directory.removeLeftovers();
  } catch (error) {
    // Not trusted: the gate has said so. Anything else: the first real read or write will tell.
    if (!(error instanceof UntrustedDirectoryError)) {
      logger.warn(`Could not look for leftover temporary files in ${path}: ${error instanceof Error ? error.message : String(error)}`, { path });
    }
  }
  return directory;
}

/** The configured admin token, or one generated into the cache directory (its path is logged, never its value). */
async function adminToken(config: AgentConfig, logger: Logger, directory: StateDirectory): Promise<string | null> {
  if (config.adminToken !== null) {
    if (config.adminToken.length < 16) logger.warn('SOFTCLIENT4ES_ADMIN_TOKEN is shorter than 16 characters; use a long random value');
    return config.adminToken;
  }
  try {
    const { token, path } = await loadOrCreateAdminToken(directory);
    logger.info(`Admin API token is in ${path}`, { path });
    return token;
  } catch (error) {
    logger.error(
      `Admin API disabled: could not store a generated admin token in ${config.cacheDir} (${error instanceof Error ? error.message : String(error)}); set SOFTCLIENT4ES_ADMIN_TOKEN`,
    );
    return null;
  }
}
