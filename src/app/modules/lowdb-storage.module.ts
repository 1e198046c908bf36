import { ContainerModule } from 'inversify';
import { loadOrCreateAdminToken } from '../../adapters/fs/admin-token-file.js';
import { LowdbInstanceIdStore } from '../../adapters/lowdb/lowdb-instance-id-store.js';
import { LowdbHighWaterMarkStore } from '../../adapters/lowdb/lowdb-high-water-mark-store.js';
import { LowdbLicenseCache } from '../../adapters/lowdb/lowdb-license-cache.js';
import type { Clock } from '../../ports/clock.port.js';
import type { InstanceIdStore } from '../../ports/instance-id-store.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';

/** Everything kept in the cache directory: license cache, instance id, clock high-water mark, generated admin token. */
export function lowdbStorageModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.LicenseCache)
      .toResolvedValue((config: AgentConfig, clock: Clock) => new LowdbLicenseCache(config.cacheDir, clock), [TYPES.Config, TYPES.Clock])
      .inSingletonScope();
    bind(TYPES.HighWaterMarkStore)
      .toResolvedValue((config: AgentConfig) => new LowdbHighWaterMarkStore(config.cacheDir), [TYPES.Config])
      .inSingletonScope();
    bind(TYPES.InstanceIdStore)
      .toResolvedValue((config: AgentConfig, logger: Logger) => new LowdbInstanceIdStore(config.cacheDir, logger), [TYPES.Config, TYPES.Logger])
      .inSingletonScope();
    bind(TYPES.InstanceId)
      .toResolvedValue((store: InstanceIdStore) => store.load(), [TYPES.InstanceIdStore])
      .inSingletonScope();
    bind(TYPES.AdminToken)
      .toResolvedValue((config: AgentConfig, logger: Logger) => adminToken(config, logger), [TYPES.Config, TYPES.Logger])
      .inSingletonScope();
  });
}

/** The configured admin token, or one generated into the cache directory (its path is logged, never its value). */
async function adminToken(config: AgentConfig, logger: Logger): Promise<string | null> {
  if (config.adminToken !== null) {
    if (config.adminToken.length < 16) logger.warn('SOFTCLIENT4ES_ADMIN_TOKEN is shorter than 16 characters; use a long random value');
    return config.adminToken;
  }
  try {
    const { token, path } = await loadOrCreateAdminToken(config.cacheDir);
    logger.info(`Admin API token is in ${path}`, { path });
    return token;
  } catch (error) {
    logger.error(
      `Admin API disabled: could not store a generated admin token in ${config.cacheDir} (${error instanceof Error ? error.message : String(error)}); set SOFTCLIENT4ES_ADMIN_TOKEN`,
    );
    return null;
  }
}
