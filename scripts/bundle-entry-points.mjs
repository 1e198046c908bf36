// The example host's entry point (`npm start`, `node dist/app/main.js`) as one file: the agent's
// own ~75 modules and its libraries' several hundred cost more to resolve and load than to run
// (issue 11, start-up cost). Only the runnable entry point is bundled; the package's public
// modules (dist/app/index.js and below) stay as tsc wrote them. Run after tsc (`npm run build`).
//
// Code splitting puts what only a dynamic import loads — fleet mode's module and the Redis client,
// 1.5 MB — into chunks of their own (dist/app/chunks/), parsed only when SOFTCLIENT4ES_FLEET_REDIS_URL
// is set, while every module both sides use stays one copy (so that `instanceof` holds across them).
import { build } from 'esbuild';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';

const dir = 'dist/app';
rmSync(`${dir}/chunks`, { recursive: true, force: true });
await build({
  entryPoints: [`${dir}/main.js`],
  outdir: dir,
  entryNames: '[name].bundle', // esbuild never overwrites its input: renamed below
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // CommonJS dependencies (Express...) call require(); ESM has none of its own. In every output
  // file, since a chunk may hold CommonJS code too.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
renameSync(`${dir}/main.bundle.js`, `${dir}/main.js`);
if (!existsSync(`${dir}/chunks`) || !readdirSync(`${dir}/chunks`).some((name) => name.endsWith('.js'))) throw new Error('bundle: expected the fleet module in a chunk of its own');
