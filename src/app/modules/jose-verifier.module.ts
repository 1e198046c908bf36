import { ContainerModule } from 'inversify';
import { JoseLicenseVerifier } from '../../adapters/jose/jose-license-verifier.js';
import { mergeKeySets, readJwksFile, type ParsedKeySet } from '../../adapters/jose/trusted-keys.js';
import type { Clock } from '../../ports/clock.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';
import { BUNDLED_KEYS_PATH } from '../paths.js';

/** License JWT verification with jose, trusting the bundled keys plus the operator's JWKS file. */
export function joseVerifierModule(bundledKeysPath = BUNDLED_KEYS_PATH): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.LicenseVerifier)
      .toResolvedValue(
        (config: AgentConfig, clock: Clock, logger: Logger, instanceId: string) => {
          const keySet = trustedKeys(bundledKeysPath, config, logger);
          const { issuer, gracePeriodMs } = config;
          return new JoseLicenseVerifier({ keys: keySet.keys, issuer, instanceId, gracePeriodMs }, clock);
        },
        [TYPES.Config, TYPES.Clock, TYPES.Logger, TYPES.InstanceId],
      )
      .inSingletonScope();
  });
}

function trustedKeys(bundledPath: string, config: AgentConfig, logger: Logger): ParsedKeySet {
  const extra = config.publicKeysFile === null ? [] : [readJwksFile(config.publicKeysFile)];
  const keySet = mergeKeySets(readJwksFile(bundledPath), ...extra);
  for (const reason of keySet.ignored) logger.warn(`Trusted key ignored: ${reason}`);
  const licenseConfigured = config.staticLicenseJwt !== null || config.apiKey !== null;
  if (keySet.keys.size === 0 && licenseConfigured) {
    logger.warn('No trusted license signing keys: every license token will be rejected (see SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS)');
  }
  return keySet;
}
