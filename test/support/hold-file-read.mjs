// Preloaded with `node --import`: the first time the process opens the file named by
// HOLD_FILE_READ (through fs.promises.open, as the agent reads its trusted keys), it prints
// `test: holding the read of <path>` and holds that open for HOLD_FILE_READ_MS (1500 by
// default). A window in the middle of start-up in which an e2e test can act (send a signal).
import fs from 'node:fs';

const target = process.env.HOLD_FILE_READ;
const holdMs = Number(process.env.HOLD_FILE_READ_MS ?? 1500);
const open = fs.promises.open;
let held = false;
fs.promises.open = async function holdingOpen(path, ...rest) {
  if (!held && target !== undefined && String(path) === target) {
    held = true;
    process.stdout.write(`test: holding the read of ${target}\n`);
    await new Promise((resolve) => setTimeout(resolve, holdMs));
  }
  return open.call(this, path, ...rest);
};
