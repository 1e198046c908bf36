/**
 * Child process of the start-up bench: how long a host's `import` takes. `node import-cost.js
 * express` times `await import('express')` alone; `node import-cost.js express+agent` then also
 * times `await import('softclient4es-license-agent')` (the package's own name: Node resolves it to
 * the built dist/app/index.js through the `exports` of package.json). Prints one JSON line.
 */
import { performance } from 'node:perf_hooks';

export interface ImportCostSample {
  readonly expressMs: number;
  /** The package's import after Express's; 0 when not imported. */
  readonly agentMs: number;
  readonly totalMs: number;
  readonly rssBytes: number;
}

const withAgent = process.argv[2] === 'express+agent';
const began = performance.now();
await import('express');
const expressDone = performance.now();
// A variable, so that tsc does not resolve (and type-check against) the built package.
const packageName = 'softclient4es-license-agent';
if (withAgent) await import(packageName);
const done = performance.now();
const sample: ImportCostSample = {
  expressMs: expressDone - began,
  agentMs: withAgent ? done - expressDone : 0,
  totalMs: done - began,
  rssBytes: process.memoryUsage().rss,
};
process.stdout.write(`${JSON.stringify(sample)}\n`);
