import type { Router } from 'express';
import { adminRouter } from '../adapters/express/admin-router.js';
import { healthRouter } from '../adapters/express/health-router.js';
import { licenseStatusBody } from '../adapters/express/license-status.body.js';
import type { LicenseSnapshot, LicenseState } from '../domain/model/license-state.js';
import type { ResolveLicense } from '../domain/resolution/resolve-license.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { AgentConfig } from './config.js';
import { OPENAPI_PATH } from './paths.js';

export interface LicenseAgentParts {
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly state: LicenseState;
  readonly resolveLicense: ResolveLicense;
  readonly instanceId: string;
  readonly adminToken: string | null;
}

/**
 * The agent as a host server sees it: start it, read the license in force, mount its routes.
 * Built by `createLicenseAgent`.
 */
export class LicenseAgent {
  #started: Promise<void> | null = null;
  #ready = false;

  constructor(private readonly parts: LicenseAgentParts) {}

  /** Resolves the license for the first time. Never rejects: at worst the agent runs Community. */
  start(): Promise<void> {
    this.#started ??= this.#resolveInitialLicense();
    return this.#started;
  }

  /** True once the initial resolution has finished. */
  isReady(): boolean {
    return this.#ready;
  }

  /** The license in force, as one immutable snapshot. */
  current(): LicenseSnapshot {
    return this.parts.state.current();
  }

  /** The body of `GET /admin/license`. */
  status(): ReturnType<typeof licenseStatusBody> {
    const { clock, config, instanceId } = this.parts;
    return licenseStatusBody(this.current(), { now: clock.now(), gracePeriodMs: config.gracePeriodMs, instanceId });
  }

  /** The admin API, to mount under `/admin`; it requires the admin bearer token. */
  adminRouter(): Router {
    return adminRouter({ adminToken: () => this.parts.adminToken, licenseStatus: () => this.status() }, OPENAPI_PATH);
  }

  /** `GET /healthz` and `GET /readyz`. */
  healthRouter(): Router {
    return healthRouter(() => this.isReady());
  }

  /** Stops background work; safe to call more than once. */
  async stop(): Promise<void> {
    await this.#started;
  }

  async #resolveInitialLicense(): Promise<void> {
    try {
      await this.parts.resolveLicense.execute();
    } catch (error) {
      this.parts.logger.error('License resolution failed unexpectedly; running in Community mode', { err: error });
    } finally {
      this.#ready = true;
    }
  }
}
