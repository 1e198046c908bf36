/**
 * Child process of the bench: tiny Express apps serving the same `/demo/query` route, each on its
 * own random loopback port, bare or behind the agent's enforcement middleware (one app per argv
 * variant, all sharing one agent). It runs apart from the load generator so that the generator does
 * not share the server's event loop. The variants share one process on purpose: identical
 * processes measured 10-30% apart in server CPU per request on a 2-vCPU VM (JIT decisions, memory
 * layout), which would drown a difference of a few percent. Driven over IPC.
 */
import express, { type Request, type Response } from 'express';
import { ContainerModule } from 'inversify';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { JoseLicenseVerifier } from '../src/adapters/jose/jose-license-verifier.js';
import { SystemClock } from '../src/adapters/system/system-clock.js';
import { loadConfig } from '../src/app/config.js';
import { createLicenseAgent } from '../src/app/create-license-agent.js';
import { licenseModule } from '../src/app/modules/license.module.js';
import { licenseFromToken, type License } from '../src/domain/model/license.js';
import type { LicenseState } from '../src/domain/model/license-state.js';
import { TYPES } from '../src/ports/types.js';
import { aLicenseToken, generateSigningKey, jwksOf, TEST_ISSUER, type SigningKey } from '../test/support/signing-keys.js';
import { ADMIN_TOKEN, SILENT_LOGGER } from './bench-support.js';
import { DEMO_HOST_VARIANTS, type DemoHostReady, type DemoHostReply, type DemoHostRequest, type DemoHostVariant } from './demo-host.protocol.js';

/**
 * `?rows=`, parsed once per request whoever asks first (the quota check or the route): Express 5
 * parses the query string again on every `req.query` read, a cost that is the route's, not the
 * enforcement's.
 */
const rows = (req: Request): number => {
  const locals = (req.res as Response).locals;
  if (typeof locals.rows !== 'number') {
    const value = req.query.rows;
    locals.rows = typeof value === 'string' ? Number(value) : 0;
  }
  return locals.rows;
};

/** Real licenses from real verified JWTs, as the resolution chain would produce them. */
async function verifiedLicense(key: SigningKey, tier: 'pro' | 'enterprise'): Promise<License> {
  const verifier = new JoseLicenseVerifier(
    { keys: new Map([[key.kid, key.publicKey]]), issuer: TEST_ISSUER, instanceId: 'bench', gracePeriodMs: 0 },
    new SystemClock(),
  );
  return licenseFromToken(await verifier.verify(await aLicenseToken(key, { tier, orgName: 'Bench Org' })), 'static');
}

async function main(variants: readonly DemoHostVariant[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'license-agent-bench-'));
  const key = generateSigningKey('bench-key-1');
  writeFileSync(join(dir, 'trusted-keys.json'), JSON.stringify(jwksOf(key)));
  const config = loadConfig(
    {
      SOFTCLIENT4ES_LICENSE_KEY: await aLicenseToken(key, { tier: 'pro', orgName: 'Bench Org' }),
      SOFTCLIENT4ES_LICENSE_ISSUER: TEST_ISSUER,
      SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS: join(dir, 'trusted-keys.json'),
      SOFTCLIENT4ES_LICENSE_CACHE_DIR: join(dir, 'cache'),
      SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED: 'false',
      SOFTCLIENT4ES_ADMIN_TOKEN: ADMIN_TOKEN,
    },
    dir,
  );

  // The default license module, plus a hook that hands the bench the agent's own LicenseState:
  // the swaps below go through the very snapshot that enforce() reads.
  let activatedState: LicenseState | undefined;
  const defaultLicenseModule = licenseModule();
  const observedLicenseModule = new ContainerModule((options) => {
    void defaultLicenseModule.load(options);
    options.onActivation<LicenseState>(TYPES.LicenseState, (_context, state) => {
      activatedState = state;
      return state;
    });
  });
  const agent = await createLicenseAgent(config, { logger: SILENT_LOGGER, modules: { license: observedLicenseModule } });
  await agent.start();
  if (activatedState === undefined) throw new Error('the agent never activated its LicenseState');
  const state: LicenseState = activatedState;
  if (agent.current().license.tier !== 'pro') throw new Error(`expected a Pro license at start, got ${agent.current().license.tier}`);
  const pro = await verifiedLicense(key, 'pro');
  const enterprise = await verifiedLicense(key, 'enterprise');

  // The route is the same in every app: bare, or gated by requireQuota (which pins the license
  // itself), alone or behind an app-wide layer.
  const urls: string[] = [];
  const servers: Server[] = [];
  const handling: RecordableHistogram[] = [];
  for (const variant of variants) {
    const app = express();
    app.disable('x-powered-by');
    if (variant === 'enforced-app-wide') app.use(agent.enforce());
    if (variant === 'no-op-app-wide') app.use((_req, _res, next) => next());
    const gates = variant === 'unenforced' ? [] : [agent.requireQuota('max_result_rows', rows)];
    app.get('/demo/query', ...gates, (req, res) => {
      res.json({ ok: true, rows: rows(req) });
    });
    // Times each request's synchronous handling (routing, middleware, the JSON answer written to
    // the socket), in nanoseconds: what the apps' code costs, free of the machine's drift when the
    // requests of all apps are interleaved.
    const times = createHistogram();
    handling.push(times);
    const server = createServer((req, res) => {
      const startedAt = performance.now();
      app(req, res);
      times.record(Math.max(1, Math.round((performance.now() - startedAt) * 1e6)));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/demo/query`);
  }

  let swapTimer: NodeJS.Timeout | undefined;
  let swaps = { count: 0, startedAt: 0, lastAt: 0, maxGapMs: 0 };
  state.onChange(() => {
    const now = performance.now();
    swaps.maxGapMs = Math.max(swaps.maxGapMs, now - swaps.lastAt);
    swaps.lastAt = now;
    swaps.count += 1;
  });

  const reply = (message: DemoHostReply) => process.send?.(message);
  process.on('message', (message: DemoHostRequest) => {
    switch (message.type) {
      case 'cpu-usage': {
        const { user, system } = process.cpuUsage();
        reply({ id: message.id, type: 'cpu-usage', cpuMicros: user + system });
        break;
      }
      case 'handling-times': {
        const times = handling.map((histogram) => ({ count: histogram.count, meanNanos: histogram.mean, medianNanos: histogram.percentile(50) }));
        for (const histogram of handling) histogram.reset();
        reply({ id: message.id, type: 'handling-times', times });
        break;
      }
      case 'start-swaps': {
        const now = performance.now();
        swaps = { count: 0, startedAt: now, lastAt: now, maxGapMs: 0 };
        swapTimer = setInterval(() => {
          const next = state.current().license.tier === 'pro' ? enterprise : pro;
          state.install(next, [], new Date());
        }, message.intervalMs);
        reply({ id: message.id, type: 'ok' });
        break;
      }
      case 'stop-swaps': {
        clearInterval(swapTimer);
        const summary = { swaps: swaps.count, elapsedMs: performance.now() - swaps.startedAt, maxGapMs: swaps.maxGapMs };
        state.install(pro, [], new Date());
        reply({ id: message.id, type: 'swaps', ...summary });
        break;
      }
    }
  });
  process.once('disconnect', () => {
    clearInterval(swapTimer);
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    void agent.stop().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });

  const ready: DemoHostReady = { type: 'ready', urls };
  process.send?.(ready);
}

const variants = process.argv.slice(2);
const isVariant = (value: string): value is DemoHostVariant => (DEMO_HOST_VARIANTS as readonly string[]).includes(value);
if (variants.length === 0 || !variants.every(isVariant)) {
  process.stderr.write(`usage: demo-host.js (${DEMO_HOST_VARIANTS.join('|')})... (got ${variants.join(' ')})\n`);
  process.exit(2);
}
main(variants.filter(isVariant)).catch((error: unknown) => {
  process.stderr.write(`demo-host failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
