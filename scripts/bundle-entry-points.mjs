// The example host's entry point (`npm start`, `node dist/app/main.js`) as one file: the agent's
// own ~75 modules and its libraries' several hundred cost more to resolve and load than to run
// (issue 11, start-up cost). Only the runnable entry point is bundled; the package's public
// modules (dist/app/index.js and below) stay as tsc wrote them. Run after tsc (`npm run build`).
import { build } from 'esbuild';
import { renameSync } from 'node:fs';

const entry = 'dist/app/main.js';
await build({
  entryPoints: [entry],
  outfile: `${entry}.bundle`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // CommonJS dependencies (Express...) call require(); ESM has none of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
renameSync(`${entry}.bundle`, entry);
