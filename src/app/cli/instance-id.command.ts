import { StateDirectory } from '../../adapters/fs/state-directory.js';
import { storedInstanceId } from '../../adapters/lowdb/lowdb-instance-id-store.js';
import { textGateFor } from '../config.js';
import { cliConfig } from './environment.js';
import { CollectingLogger, write, writeJson, writeWarnings } from './output.js';
import { CliError, EXIT, type ExitCode } from './usage.js';

/** `instance-id`: this installation's id from `<cache dir>/instance.json`, read as the agent reads it; creates nothing. */
export async function instanceIdCommand(options: { readonly json: boolean }): Promise<ExitCode> {
  const config = cliConfig();
  const gate = textGateFor(config);
  const logger = new CollectingLogger(gate);
  const stored = await storedInstanceId(new StateDirectory(config.cacheDir, logger));
  const id = stored.state === 'present' ? stored.id : null;
  if (options.json) writeJson({ instance_id: id, path: stored.path }, gate);
  else if (id !== null) write(`${id}\n`);
  // The directory's own WARN (not trusted) says the same as `unusable`: print it only once.
  if (stored.state !== 'unusable') writeWarnings(logger.warnings);
  switch (stored.state) {
    case 'present':
      return EXIT.OK;
    case 'absent':
      throw new CliError(EXIT.FAILED, `No instance id yet: ${stored.path} does not exist; the agent creates it when it starts`);
    case 'unusable':
      throw new CliError(EXIT.FAILED, `No usable instance id: ${stored.reason}; the agent would set the file aside and create a new id`);
  }
}
