// Preloaded with `node --import`: records the URL of every module the process imports (ESM
// resolution, which every `import` of the CLI goes through) into the file named by
// RECORD_IMPORTS_FILE, one per line. Used to prove what a command does not load.
import { register } from 'node:module';

register(new URL('./record-imports.hooks.mjs', import.meta.url), { data: { file: process.env.RECORD_IMPORTS_FILE } });
