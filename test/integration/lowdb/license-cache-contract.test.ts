import { join } from 'node:path';
import { LowdbLicenseCache } from '../../../src/adapters/lowdb/lowdb-license-cache.js';
import { licenseCacheContract } from '../../support/contracts/license-cache.contract.js';
import { FixedClock } from '../../support/fixed-clock.js';
import { InMemoryLicenseCache } from '../../support/in-memory-license-cache.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

licenseCacheContract('LowdbLicenseCache', () => {
  const root = makeTempDir('license-cache-contract-');
  return { cache: new LowdbLicenseCache(join(root, 'cache'), new FixedClock()), dispose: () => removeTempDir(root) };
});

licenseCacheContract('InMemoryLicenseCache', () => ({ cache: new InMemoryLicenseCache() }));
