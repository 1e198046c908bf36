#!/usr/bin/env node
/**
 * `softclient4es-license`: the operator's command line (DESIGN §10). A thin entry point: it parses
 * the arguments with `node:util` and imports only the command asked for, which calls the same code
 * a host server runs. `verify` loads neither Express, Inversify nor the metrics.
 */
import { parseArgs } from 'node:util';
import { TextGate } from '../../domain/model/safe-text.js';
import { AGENT_VERSION } from '../version.js';
import { CliError, COMMAND_OPTIONS, EXIT, GENERAL_HELP, helpFor, isCommand, PROGRAM, UsageError, type ExitCode } from './usage.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  'token-file': { type: 'string' },
  timeout: { type: 'string' },
} as const;

async function run(args: readonly string[]): Promise<ExitCode> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [command, ...operands] = positionals;
  const json = values.json === true;
  if (values.version === true) {
    process.stdout.write(json ? `${JSON.stringify({ version: AGENT_VERSION })}\n` : `${PROGRAM} ${AGENT_VERSION}\n`);
    return EXIT.OK;
  }
  if (command === undefined) {
    if (values.help === true) {
      process.stdout.write(GENERAL_HELP);
      return EXIT.OK;
    }
    throw new UsageError('No command given');
  }
  if (!isCommand(command)) throw new UsageError(`Unknown command '${command}'`);
  if (values.help === true) {
    process.stdout.write(helpFor(command));
    return EXIT.OK;
  }
  const refused = Object.keys(values).find((name) => name !== 'help' && !COMMAND_OPTIONS[command].includes(name));
  if (refused !== undefined) throw new UsageError(`Option '--${refused}' does not apply to '${command}'`, command);
  const agent = { url: values.url, tokenFile: values['token-file'], timeout: values.timeout, json };

  switch (command) {
    case 'verify': {
      if (operands.length !== 1) throw new UsageError(operands.length === 0 ? 'verify needs a token, a file or -' : 'verify takes one token', command);
      const { verifyCommand } = await import('./verify.command.js');
      return verifyCommand(operands[0] as string, { json });
    }
    case 'status': {
      noOperands(command, operands);
      const { statusCommand } = await import('./status.command.js');
      return statusCommand(agent);
    }
    case 'refresh': {
      noOperands(command, operands);
      const { refreshCommand } = await import('./refresh.command.js');
      return refreshCommand(agent);
    }
    case 'instance-id': {
      noOperands(command, operands);
      const { instanceIdCommand } = await import('./instance-id.command.js');
      return instanceIdCommand({ json });
    }
  }
}

function noOperands(command: string, operands: readonly string[]): void {
  if (operands.length > 0) throw new UsageError(`'${command}' takes no argument (got '${operands[0]}')`, command);
}

/** Error lines on stderr, each through a text gate (they may quote paths and agent answers). */
function report(error: unknown): ExitCode {
  const gate = new TextGate([process.env.SOFTCLIENT4ES_ADMIN_TOKEN, process.env.SOFTCLIENT4ES_API_KEY, process.env.SOFTCLIENT4ES_LICENSE_KEY]);
  if (error instanceof CliError) {
    error.lines.forEach((line, i) => process.stderr.write(`${i === 0 ? `${PROGRAM}: ` : ''}${gate.pass(line, 1000)}\n`));
    return error.code;
  }
  process.stderr.write(`${PROGRAM}: unexpected error: ${gate.pass(error instanceof Error ? error.message : String(error))}\n`);
  return EXIT.FAILED;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error);
  },
);
