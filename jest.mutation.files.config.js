/**
 * Jest for focused StrykerJS runs (stryker.focused.config.json): only the test files named in
 * MUTATION_TESTS, comma-separated globs under test/ (e.g. `unit/**\/*.test.ts,integration/fs/*.test.ts`).
 */
import base from './jest.mutation.config.js';

const globs = (process.env.MUTATION_TESTS ?? '').split(',').filter(Boolean);
if (globs.length === 0) throw new Error('MUTATION_TESTS names no test files');

export default { ...base, testMatch: globs.map((glob) => `<rootDir>/test/${glob}`) };
