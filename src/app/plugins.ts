/**
 * The plugin API (`softclient4es-license-agent/plugins`): what a host needs to replace one of the
 * agent's adapters. A subpath of its own because it loads Inversify, which the main entry point
 * does not, so that a host that only embeds the agent pays for Inversify when `createLicenseAgent`
 * runs, not when it imports the package.
 *
 * ```ts
 * import { ContainerModule, TYPES } from 'softclient4es-license-agent/plugins';
 * const backend = new ContainerModule(({ bind }) => bind(TYPES.TokenBackend).toConstantValue(myBackend));
 * const agent = await createLicenseAgent(config, { modules: { backend } });
 * ```
 */
/** Inversify's module class, re-exported so that a host's plugins and the agent share one Inversify. */
export { ContainerModule } from 'inversify';
export { defaultModules, type AgentModules } from './create-license-agent.js';
export { TYPES } from '../ports/types.js';
