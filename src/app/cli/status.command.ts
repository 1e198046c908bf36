import { textGateFor } from '../config.js';
import { adminTarget, callAgent, describeAnswer, type AgentOptions } from './admin-client.js';
import { cliHostConfig } from './environment.js';
import { isJsonObject, Show, statusRows } from './license-table.js';
import { CollectingLogger, renderRows, write, writeJson, writeWarnings } from './output.js';
import { CliError, EXIT, type ExitCode } from './usage.js';

/** `status`: GET /admin/license from a running agent, as a table or (`--json`) as the agent's JSON. */
export async function statusCommand(options: AgentOptions & { readonly json: boolean }): Promise<ExitCode> {
  const { agent: config, host } = cliHostConfig();
  const gate = textGateFor(config);
  const logger = new CollectingLogger(gate);
  try {
    const target = await adminTarget(options, config, host, gate, logger, 'status');
    const answer = await callAgent(target, 'GET', 'admin/license');
    const ok = answer.status === 200 && isJsonObject(answer.json) && typeof answer.json.tier === 'string';
    if (options.json && answer.json !== undefined) writeJson(answer.json, gate);
    if (!ok) throw new CliError(EXIT.FAILED, `Unexpected answer from the agent to GET /admin/license: ${describeAnswer(answer, gate)}`);
    if (!options.json) write(renderRows(statusRows(answer.json as Record<string, unknown>, new Show(gate))));
    return EXIT.OK;
  } finally {
    writeWarnings(logger.warnings);
  }
}
