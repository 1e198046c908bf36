/** Native ESM jest with @swc/jest; type-checking is `tsc`'s job (see the `test` script). */

/**
 * Every test runs in a zone that is not UTC, whatever the machine's: code that reads a date as local
 * time (an asctime `Retry-After`, RFC 9110 §5.6.7) would pass on a UTC machine only. Set here, before
 * any test runs, so that jest's workers (and StrykerJS's in-process runs) inherit it.
 */
process.env.TZ = 'America/New_York';

export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
        },
        module: { type: 'es6' },
      },
    ],
  },
  testTimeout: 20000,
};
