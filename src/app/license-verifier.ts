import { JoseLicenseVerifier } from '../adapters/jose/jose-license-verifier.js';
import { mergeKeySets, parseJwk, readJwksFile, type ParsedKeySet } from '../adapters/jose/trusted-keys.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { AgentConfig } from './config.js';
import { BUNDLED_KEYS_PATH } from './paths.js';

/**
 * The trusted license signing keys of a configuration: the bundled keys, the operator's JWKS file
 * (`SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS`) and the operator's single JWK (`SOFTCLIENT4ES_LICENSE_PUBLIC_KEY`).
 * Entries that are not Ed25519 signing keys are skipped with a WARN; so is an empty set while a
 * license is configured. The one assembly the agent and the CLI's `verify` share.
 *
 * @throws TrustedKeysError when any source cannot be used; each source's errors name the variable that set it.
 */
export async function loadTrustedKeys(
  config: Pick<AgentConfig, 'publicKeysFile' | 'publicKeyJwk' | 'staticLicenseJwt' | 'apiKey'>,
  logger: Logger,
  bundledKeysPath: string = BUNDLED_KEYS_PATH,
): Promise<ParsedKeySet> {
  const sets = [await readJwksFile(bundledKeysPath)];
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

export interface LicenseVerifierContext {
  /** This installation's id: tokens bound to another are refused. */
  readonly instanceId: string;
  /** The clock licenses are judged by (the agent's high-water clock). */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly bundledKeysPath?: string;
}

/**
 * The license verifier of a configuration: jose, the trusted keys of `loadTrustedKeys`, the
 * configured issuer and grace period. What the agent verifies every token with, and `verify` too.
 *
 * @throws TrustedKeysError as `loadTrustedKeys`.
 */
export async function createLicenseVerifier(config: AgentConfig, context: LicenseVerifierContext): Promise<JoseLicenseVerifier> {
  const { instanceId, clock, logger, bundledKeysPath } = context;
  const keySet = await loadTrustedKeys(config, logger, bundledKeysPath);
  const { issuer, gracePeriodMs } = config;
  return new JoseLicenseVerifier({ keys: keySet.keys, issuer, instanceId, gracePeriodMs, logger }, clock);
}
