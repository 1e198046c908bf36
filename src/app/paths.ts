import { fileURLToPath } from 'node:url';

/** The package's root directory, from `src/app` or `dist/app` alike. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const PACKAGE_JSON_PATH = `${PACKAGE_ROOT}package.json`;
export const OPENAPI_PATH = `${PACKAGE_ROOT}openapi.yaml`;
/** The license signing keys shipped with the package. */
export const BUNDLED_KEYS_PATH = `${PACKAGE_ROOT}keys/license-signing-keys.jwks.json`;
