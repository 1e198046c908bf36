import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLOCK_FILE, LowdbHighWaterMarkStore } from '../../../src/adapters/lowdb/lowdb-high-water-mark-store.js';
import { StateDirectory } from '../../../src/adapters/fs/state-directory.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { CacheError } from '../../../src/domain/model/errors.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

let root: string;
beforeEach(() => {
  root = makeTempDir('clock-store-');
});
afterEach(() => removeTempDir(root));

const dir = () => join(root, 'cache');
const MARK = { highWaterAt: new Date('2026-06-01T00:00:00.000Z'), newestBackendIssuedAt: new Date('2026-05-31T23:00:00.000Z') };

describe('LowdbHighWaterMarkStore', () => {
  it('has no mark before the first save', async () => {
    await expect(new LowdbHighWaterMarkStore(new StateDirectory(dir(), new RecordingLogger())).load()).resolves.toBeNull();
  });

  it('saves clock.json with mode 0600 and loads it back', async () => {
    await new LowdbHighWaterMarkStore(new StateDirectory(dir(), new RecordingLogger())).save(MARK);

    await expect(new LowdbHighWaterMarkStore(new StateDirectory(dir(), new RecordingLogger())).load()).resolves.toEqual(MARK);
    expect(statSync(join(dir(), CLOCK_FILE)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dir(), CLOCK_FILE), 'utf8'))).toEqual({
      high_water_at: '2026-06-01T00:00:00.000Z',
      newest_backend_iat: '2026-05-31T23:00:00.000Z',
    });
  });

  it('keeps a null newest backend iat', async () => {
    await new LowdbHighWaterMarkStore(new StateDirectory(dir(), new RecordingLogger())).save({ ...MARK, newestBackendIssuedAt: null });
    await expect(new LowdbHighWaterMarkStore(new StateDirectory(dir(), new RecordingLogger())).load()).resolves.toEqual({ ...MARK, newestBackendIssuedAt: null });
  });

  it.each([
    ['JSON null', 'null', 'expected a JSON object'],
    ['a JSON string', '"2026-06-01T00:00:00.000Z"', 'expected a JSON object'],
    ['an invalid date', JSON.stringify({ high_water_at: 'yesterday', newest_backend_iat: null }), '"high_water_at" must be an ISO-8601 instant'],
    ['a numeric high-water mark', JSON.stringify({ high_water_at: 1_780_000_000_000, newest_backend_iat: null }), '"high_water_at" must be an ISO-8601 instant'],
    ['an invalid iat', JSON.stringify({ high_water_at: '2026-06-01T00:00:00.000Z', newest_backend_iat: 'soon' }), '"newest_backend_iat" must be an ISO-8601 instant'],
  ])('says what is wrong with a file holding %s', async (_case, content, reason) => {
    mkdirSync(dir(), { mode: 0o700 });
    writeFileSync(join(dir(), CLOCK_FILE), content);

    const error = await new LowdbHighWaterMarkStore(new StateDirectory(dir(), new RecordingLogger())).load().catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'CACHE.CORRUPT', message: `${join(dir(), CLOCK_FILE)} is corrupt: ${reason}` });
  });

  it('a mark it cannot read for an I/O error is CACHE.IO_FAILED naming the operation, the file and the code', async () => {
    class FailingDisk extends StateDirectory {
      override read(): Promise<Buffer | null> {
        return Promise.reject(Object.assign(new Error('i/o error'), { code: 'EIO' }));
      }
    }
    const error = await new LowdbHighWaterMarkStore(new FailingDisk(dir(), new RecordingLogger())).load().catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'CACHE.IO_FAILED', message: `could not read ${join(dir(), CLOCK_FILE)} (EIO)` });
  });

  it('a mark it cannot write is CACHE.IO_FAILED naming the file', async () => {
    writeFileSync(join(root, 'cache'), 'a file where the directory should be');

    const error = await new LowdbHighWaterMarkStore(new StateDirectory(dir(), new RecordingLogger())).save(MARK).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CacheError);
    expect(error).toMatchObject({ code: 'CACHE.IO_FAILED', message: expect.stringMatching(new RegExp(`^could not write ${join(dir(), CLOCK_FILE)} \\(E[A-Z]+\\)$`)) });
  });

  it.each([
    ['not JSON', 'garbage'],
    ['an invalid date', JSON.stringify({ high_water_at: 'yesterday', newest_backend_iat: null })],
    ['a date out of range', JSON.stringify({ high_water_at: '+999999-01-01T00:00:00.000Z', newest_backend_iat: null })],
    ['a missing field', JSON.stringify({ newest_backend_iat: null })],
    ['a numeric iat', JSON.stringify({ high_water_at: '2026-06-01T00:00:00.000Z', newest_backend_iat: 5 })],
  ])('refuses a file holding %s as CACHE.CORRUPT', async (_case, content) => {
    mkdirSync(dir(), { mode: 0o700 });
    writeFileSync(join(dir(), CLOCK_FILE), content);

    const error = await new LowdbHighWaterMarkStore(new StateDirectory(dir(), new RecordingLogger())).load().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).code).toBe('CACHE.CORRUPT');
  });
});
