import { ContainerModule } from 'inversify';
import type { Clock } from '../../ports/clock.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { TYPES } from '../../ports/types.js';
import type { AgentConfig } from '../config.js';
import { createLicenseVerifier } from '../license-verifier.js';
import { BUNDLED_KEYS_PATH } from '../paths.js';
import { ReloadableLicenseVerifier } from '../reload/reloadable-license-verifier.js';

/**
 * License JWT verification with jose, trusting the bundled keys, the operator's JWKS file
 * (`SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS`) and the operator's single JWK (`SOFTCLIENT4ES_LICENSE_PUBLIC_KEY`)
 * (see `createLicenseVerifier`, which the CLI's `verify` shares). Resolving it rejects with
 * `TrustedKeysError` when any of them cannot be used: start-up stops. Reloadable: a SIGHUP reads
 * the keys again (`ReloadableLicenseVerifier`).
 */
export function joseVerifierModule(bundledKeysPath = BUNDLED_KEYS_PATH): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.LicenseVerifier)
      .toResolvedValue(
        async (config: AgentConfig, clock: Clock, logger: Logger, instanceId: string) => {
          const build = () => createLicenseVerifier(config, { instanceId, clock, logger, bundledKeysPath });
          return new ReloadableLicenseVerifier(await build(), build);
        },
        [TYPES.Config, TYPES.Clock, TYPES.Logger, TYPES.InstanceId],
      )
      .inSingletonScope();
  });
}
