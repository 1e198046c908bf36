import 'reflect-metadata';
import { Container, type ContainerModule } from 'inversify';
import { PinoLogger } from '../adapters/pino/pino-logger.js';
import type { LicenseState } from '../domain/model/license-state.js';
import type { ResolveLicense } from '../domain/resolution/resolve-license.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import { TYPES } from '../ports/types.js';
import type { AgentConfig } from './config.js';
import { LicenseAgent } from './license-agent.js';
import { coreModule } from './modules/core.module.js';
import { httpBackendModule } from './modules/http-backend.module.js';
import { joseVerifierModule } from './modules/jose-verifier.module.js';
import { licenseModule } from './modules/license.module.js';
import { lowdbStorageModule } from './modules/lowdb-storage.module.js';

/** The replaceable parts of the agent, one container module each: the plugin points. */
export interface AgentModules {
  /** Binds `TYPES.LicenseVerifier`. */
  readonly verifier: ContainerModule;
  /** Binds `TYPES.TokenBackend`. */
  readonly backend: ContainerModule;
  /** Binds `TYPES.LicenseCache`, `TYPES.InstanceIdStore`, `TYPES.InstanceId`, `TYPES.AdminToken`. */
  readonly storage: ContainerModule;
  /** Binds the domain: `TYPES.LicenseState`, `TYPES.GraceWarnings`, `TYPES.ResolveLicense`. */
  readonly license: ContainerModule;
}

export interface LicenseAgentOptions {
  /** Where the agent logs; by default pino JSON lines on stdout with secrets scrubbed. */
  readonly logger?: Logger;
  /** Replacements for default modules, by name (for example another `backend`). */
  readonly modules?: Partial<AgentModules>;
}

export function defaultModules(): AgentModules {
  return {
    verifier: joseVerifierModule(),
    backend: httpBackendModule(),
    storage: lowdbStorageModule(),
    license: licenseModule(),
  };
}

/** The secrets of a configuration: never to be printed. */
export function configSecrets(config: AgentConfig): string[] {
  return [config.apiKey, config.adminToken, config.staticLicenseJwt].filter((secret): secret is string => secret !== null);
}

/**
 * Composition root: builds the agent from its container modules. Rejects only when the
 * configuration itself is unusable (an unreadable trusted-keys file); license problems are logged.
 */
export async function createLicenseAgent(config: AgentConfig, options: LicenseAgentOptions = {}): Promise<LicenseAgent> {
  const logger = options.logger ?? new PinoLogger({ level: config.logLevel, secrets: configSecrets(config) });
  const modules = { ...defaultModules(), ...options.modules };
  const container = new Container();
  container.load(coreModule(config, logger), modules.verifier, modules.backend, modules.storage, modules.license);
  return new LicenseAgent({
    config,
    logger,
    clock: await container.getAsync<Clock>(TYPES.Clock),
    state: await container.getAsync<LicenseState>(TYPES.LicenseState),
    resolveLicense: await container.getAsync<ResolveLicense>(TYPES.ResolveLicense),
    instanceId: await container.getAsync<string>(TYPES.InstanceId),
    adminToken: await container.getAsync<string | null>(TYPES.AdminToken),
  });
}
