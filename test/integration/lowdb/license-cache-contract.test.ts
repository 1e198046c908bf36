import { join } from 'node:path';
import { StateDirectory } from '../../../src/adapters/fs/state-directory.js';
import { LowdbLicenseCache } from '../../../src/adapters/lowdb/lowdb-license-cache.js';
import { licenseCacheContract } from '../../support/contracts/license-cache.contract.js';
import { FixedClock } from '../../support/fixed-clock.js';
import { InMemoryLicenseCache } from '../../support/in-memory-license-cache.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

licenseCacheContract('LowdbLicenseCache', () => {
  const root = makeTempDir('license-cache-contract-');
  return { cache: new LowdbLicenseCache(new StateDirectory(join(root, 'cache'), new RecordingLogger()), new FixedClock()), dispose: () => removeTempDir(root) };
});

licenseCacheContract('InMemoryLicenseCache', () => ({ cache: new InMemoryLicenseCache() }));
