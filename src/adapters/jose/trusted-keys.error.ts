/**
 * Trusted keys that cannot be used (a key file, or the key variable); stops start-up, since they are
 * the operator's own configuration. The message starts with the origin: a path or a variable name.
 * In a module of its own so that the package's entry point exports it without loading the key code.
 */
export class TrustedKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustedKeysError';
  }
}
