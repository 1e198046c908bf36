import { ContainerModule } from 'inversify';
import { JoseLicenseVerifier } from '../../adapters/jose/jose-license-verifier.js';
import { mergeKeySets, parseJwk, readJwksFile, type ParsedKeySet } from '../../adapters/jose/trusted-keys.js';
import type { Clock } from '../../ports/clock.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';
import { BUNDLED_KEYS_PATH } from '../paths.js';

/**
 * License JWT verification with jose, trusting the bundled keys, the operator's JWKS file
 * (`SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS`) and the operator's single JWK (`SOFTCLIENT4ES_LICENSE_PUBLIC_KEY`).
 * Resolving it rejects with `TrustedKeysError` when any of them cannot be used: start-up stops.
 */
export function joseVerifierModule(bundledKeysPath = BUNDLED_KEYS_PATH): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.LicenseVerifier)
      .toResolvedValue(
        async (config: AgentConfig, clock: Clock, logger: Logger, instanceId: string) => {
          const keySet = await trustedKeys(bundledKeysPath, config, logger);
          const { issuer, gracePeriodMs } = config;
          return new JoseLicenseVerifier({ keys: keySet.keys, issuer, instanceId, gracePeriodMs, logger }, clock);
        },
        [TYPES.Config, TYPES.Clock, TYPES.Logger, TYPES.InstanceId],
      )
      .inSingletonScope();
  });
}

/** The union of the trusted keys; each source's errors name the variable that set it. */
async function trustedKeys(bundledPath: string, config: AgentConfig, logger: Logger): Promise<ParsedKeySet> {
  const sets = [await readJwksFile(bundledPath)];
  if (config.publicKeysFile !== null) {
    sets.push(await readJwksFile(config.publicKeysFile, `SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS (${config.publicKeysFile})`));
  }
  if (config.publicKeyJwk !== null) sets.push(parseJwk(config.publicKeyJwk, 'SOFTCLIENT4ES_LICENSE_PUBLIC_KEY'));
  const keySet = mergeKeySets(...sets);
  for (const reason of keySet.ignored) logger.warn(`Trusted key ignored: ${reason}`);
  const licenseConfigured = config.staticLicenseJwt !== null || config.apiKey !== null;
  if (keySet.keys.size === 0 && licenseConfigured) {
    logger.warn(
      'No trusted license signing keys: every license token will be rejected (see SOFTCLIENT4ES_LICENSE_PUBLIC_KEY and SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS)',
    );
  }
  return keySet;
}
