import { textGateFor } from '../config.js';
import { adminTarget, callAgent, describeAnswer, type AgentOptions } from './admin-client.js';
import { cliHostConfig } from './environment.js';
import { isJsonObject, Show } from './license-table.js';
import { CollectingLogger, renderRows, write, writeJson, writeWarnings } from './output.js';
import { CliError, EXIT, type ExitCode } from './usage.js';

/**
 * `refresh`: POST /admin/license/refresh. 200 (refreshed) exits 0; 502 (the backend step failed:
 * the body names the license in force), 409 (no API key) and 429 (too soon) exit 1.
 */
export async function refreshCommand(options: AgentOptions & { readonly json: boolean }): Promise<ExitCode> {
  const { agent: config, host } = cliHostConfig();
  const gate = textGateFor(config);
  const logger = new CollectingLogger(gate);
  try {
    const target = await adminTarget(options, config, host, gate, logger, 'refresh');
    const answer = await callAgent(target, 'POST', 'admin/license/refresh');
    const body = isJsonObject(answer.json) ? answer.json : null;
    const result = (answer.status === 200 || answer.status === 502) && typeof body?.new_tier === 'string' ? body : null;
    if (options.json && answer.json !== undefined) writeJson(answer.json, gate);
    if (result !== null && !options.json) {
      const show = new Show(gate);
      write(
        renderRows([
          ['Status', show.text(result.status)],
          ['Tier', `${show.text(result.previous_tier)} → ${show.text(result.new_tier)}${result.trial === true ? ' (trial)' : ''}`],
          ['Expires', result.expires_at === null ? 'never' : show.text(result.expires_at)],
          ['Message', show.text(result.message)],
        ]),
      );
    }
    if (result !== null) return answer.status === 200 ? EXIT.OK : EXIT.FAILED;
    // The 429 body says when to retry; `Retry-After` says it when the body does not.
    const retryAfter = answer.status === 429 ? answer.headers.get('retry-after') : null;
    const said = isJsonObject(answer.json) && typeof answer.json.message === 'string';
    const hint = !said && retryAfter !== null && /^\d{1,6}$/.test(retryAfter) ? ` (retry after ${retryAfter} s)` : '';
    throw new CliError(EXIT.FAILED, `Refresh not run: ${describeAnswer(answer, gate)}${hint}`);
  } finally {
    writeWarnings(logger.warnings);
  }
}
