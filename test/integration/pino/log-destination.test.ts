import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogDestination } from '../../../src/adapters/pino/log-destination.js';
import { PinoLogger } from '../../../src/adapters/pino/pino-logger.js';
import { TextGate } from '../../../src/domain/model/safe-text.js';
import { makeFifo } from '../../support/file-system.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

/** The built logger, for a child process whose stdout the test controls. */
const BUILT_PINO_LOGGER = fileURLToPath(new URL('../../../dist/adapters/pino/pino-logger.js', import.meta.url));
const BUILT_TEXT_GATE = fileURLToPath(new URL('../../../dist/domain/model/safe-text.js', import.meta.url));
const LINE = 'x'.repeat(1000);
const BOUNDED_MS = 5_000;

/**
 * A child process logging through PinoLogger's default destination (stdout), serving
 * `/log?n=N` (logs N lines of about 1 KiB), `/healthz` (`{dropped}`) and `/exit` (flush, exit 0).
 */
const CHILD = `
  import { createServer } from 'node:http';
  import { PinoLogger } from ${JSON.stringify(BUILT_PINO_LOGGER)};
  import { TextGate } from ${JSON.stringify(BUILT_TEXT_GATE)};
  const logger = new PinoLogger({ level: 'debug', gate: new TextGate() });
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/log') for (let index = 0; index < Number(url.searchParams.get('n')); index += 1) logger.info(${JSON.stringify(LINE)}, { index });
    res.end(JSON.stringify({ dropped: logger.droppedLines }));
    if (url.pathname === '/exit') res.once('finish', async () => { logger.info('Stopped'); await logger.flush(); process.exit(0); });
  });
  server.listen(0, '127.0.0.1', () => process.stderr.write('port ' + server.address().port + '\\n'));
`;

describe('PinoLogger’s default destination (stdout, asynchronous)', () => {
  let child: ChildProcess;
  let base: string;
  beforeEach(async () => {
    // stdout is a pipe this test reads only when it says so: until then, nobody reads it.
    child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
    const [chunk] = (await once(child.stderr!, 'data')) as [Buffer];
    base = `http://127.0.0.1:${/port (\d+)/.exec(chunk.toString())?.[1]}`;
  });
  afterEach(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });

  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(BOUNDED_MS) });
    return (await response.json()) as { dropped: number };
  };

  it('keeps serving requests while nobody reads stdout: lines beyond the buffer are dropped and counted', async () => {
    await get('/log?n=5000'); // about 5 MiB: far past the pipe (64 KiB) and the buffer (1 MiB)

    for (let round = 0; round < 3; round += 1) expect((await get('/healthz')).dropped).toBeGreaterThan(3000);
  });

  it('exits when asked, even with stdout stalled: the flushes give up instead of waiting forever', async () => {
    await get('/log?n=5000');
    const exited = once(child, 'exit');

    await get('/exit');

    const [code] = (await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(['still running']), BOUNDED_MS))])) as [unknown];
    expect(code).toBe(0);
  });

  it('writes every line, the last ones included, when the reader keeps up and the process exits', async () => {
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
    await get('/log?n=300');

    await get('/exit');
    await once(child, 'exit');

    const lines = output.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; index?: number });
    expect(lines.filter((line) => line.msg === LINE).map((line) => line.index)).toEqual(Array.from({ length: 300 }, (_, index) => index));
    expect(lines.at(-1)?.msg).toBe('Stopped');
    expect(child.exitCode).toBe(0);
  });
});

describe('LogDestination', () => {
  let dir: string;
  let reader: number;
  let writer: number;
  /**
   * Writers stay open until the end: a destination of an earlier test may still retry a write to
   * its fd, which must then fail (EPIPE, its reader closed) rather than reach a later test's pipe.
   */
  const writers: number[] = [];
  beforeEach(() => {
    dir = makeTempDir('log-destination-');
    const fifo = join(dir, 'stdout');
    makeFifo(fifo);
    reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK); // as Node leaves a piped stdout
    writers.push(writer);
  });
  afterEach(() => {
    closeSync(reader);
    removeTempDir(dir);
  });
  afterAll(() => {
    writers.splice(0).forEach((fd) => closeSync(fd));
  });

  function drain(): string {
    const buffer = Buffer.alloc(1 << 20);
    let text = '';
    for (;;) {
      try {
        const read = readSync(reader, buffer);
        if (read === 0) return text;
        text += buffer.toString('utf8', 0, read);
      } catch {
        return text; // EAGAIN: nothing more for now
      }
    }
  }

  it('never blocks on a pipe nobody reads: it buffers up to its limit, then drops and counts, and is seen as stalled', async () => {
    const destination = new LogDestination({ fd: writer, maxBufferBytes: 256 * 1024 });

    for (let index = 0; index < 2000; index += 1) destination.write(`${LINE}\n`);

    expect(destination.droppedLines).toBeGreaterThan(1000);
    expect(destination.stalled).toBe(true);
    expect(destination.flushSync()).toBe(false); // returns at once instead of blocking forever
    await expect(destination.flush()).resolves.toBe(false);
  });

  it('flush() resolves once what it holds is written, in order, when the reader keeps up', async () => {
    const destination = new LogDestination({ fd: writer });

    for (let index = 0; index < 20; index += 1) destination.write(`line ${index}\n`);
    await expect(destination.flush()).resolves.toBe(true);

    expect(drain().trim().split('\n')).toEqual(Array.from({ length: 20 }, (_, index) => `line ${index}`));
    expect(destination.stalled).toBe(false);
    expect(destination.droppedLines).toBe(0);
  });

  it('flush() gives up after its bound when the reader stops before anything is dropped', async () => {
    const destination = new LogDestination({ fd: writer });
    for (let index = 0; index < 100; index += 1) destination.write(`${LINE}\n`); // ~100 KiB: past the pipe, within the buffer

    await expect(destination.flush(100)).resolves.toBe(false);

    expect(destination.droppedLines).toBe(0);
    expect(destination.stalled).toBe(true); // so that the exit flush does not wait again
    expect(destination.flushSync()).toBe(false);
  });

  it('lets PinoLogger report its drops', () => {
    const destination = new LogDestination({ fd: writer, maxBufferBytes: 64 * 1024 });
    const logger = new PinoLogger({ level: 'info', gate: new TextGate(), destination });

    for (let index = 0; index < 1000; index += 1) logger.info(LINE);

    expect(logger.droppedLines).toBe(destination.droppedLines);
    expect(logger.droppedLines).toBeGreaterThan(0);
  });
});
