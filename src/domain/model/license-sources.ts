/**
 * The secrets the resolution chain reads: the operator's static JWT (`SOFTCLIENT4ES_LICENSE_KEY`,
 * or its `_FILE`), the license installed at runtime (`PUT /admin/license`) and the API key. One
 * immutable set, replaced as a whole (a SIGHUP reload, an install, a removal) and read by each
 * step when it runs: a resolution never sees half of an old set and half of a new one from a
 * single read.
 */
export interface LicenseSources {
  readonly staticLicenseJwt: string | null;
  /** Step 1 too, when no static JWT is configured: the configured one wins (DESIGN §6, README). */
  readonly installedLicenseJwt: string | null;
  readonly apiKey: string | null;
}

/** The JWT step 1 uses: the configured static license, else the installed one. */
export function staticJwtOf(sources: LicenseSources): { readonly jwt: string; readonly installed: boolean } | null {
  if (sources.staticLicenseJwt !== null) return { jwt: sources.staticLicenseJwt, installed: false };
  if (sources.installedLicenseJwt !== null) return { jwt: sources.installedLicenseJwt, installed: true };
  return null;
}

/**
 * The set in force; `update` swaps it in one assignment. Whoever changes it after I/O (a reload
 * reads files, an install verifies and stores) does so inside `exclusive`, and applies only the
 * fields it owns with `update`.
 */
export class CurrentLicenseSources {
  #current: LicenseSources;
  #changes: Promise<unknown> = Promise.resolve();

  constructor(initial: LicenseSources) {
    this.#current = initial;
  }

  current(): LicenseSources {
    return this.#current;
  }

  /**
   * Runs `change` once the changes asked for before it have settled, one at a time. A change reads
   * the set, does its I/O and applies its part with `update` without another one in between: two
   * installs, an install and a removal, or a reload and either, never leave in force a set other
   * than the one stored, nor undo each other (a reload that read the set before a removal would
   * otherwise put the removed license back). What a change triggers afterwards (a resolution) runs
   * outside, so that a slow backend never holds the next change up.
   */
  exclusive<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#changes.then(change);
    this.#changes = run.catch(() => undefined);
    return run;
  }

  /** The set with `change` applied, swapped in. */
  update(change: Partial<LicenseSources>): LicenseSources {
    this.#current = { ...this.#current, ...change };
    return this.#current;
  }
}
