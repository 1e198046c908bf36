import { ApiKeyError } from './errors.js';

declare const apiKeyBrand: unique symbol;

/** A well-formed API key: `sk-` and at least one more character, printable ASCII only. */
export type ApiKey = string & { readonly [apiKeyBrand]: true };

// Printable ASCII only: anything else could not travel in an HTTP header and is a paste error.
const API_KEY_PATTERN = /^sk-[\x21-\x7e]+$/;

/** Checks the key's form without revealing it: the error never quotes the key. */
export function parseApiKey(raw: string): ApiKey {
  if (!API_KEY_PATTERN.test(raw)) {
    throw new ApiKeyError(
      'API key is malformed: expected "sk-" followed by printable characters without spaces',
    );
  }
  return raw as ApiKey;
}
