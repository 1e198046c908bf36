/**
 * Jest as StrykerJS runs it (`npm run mutation`): unit and integration tests only, with `src` among
 * the roots so that Stryker's instrumented sources are the ones the tests import.
 */
import base from './jest.config.js';

export default {
  ...base,
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/integration/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/integration/bench/'],
};
