/**
 * The CLI's words: exit codes, help texts and the errors that end a command. Imported by the entry
 * point before any command, so it imports nothing.
 */

/** Exit codes, the same for every command (documented in `--help` and the README). */
export const EXIT = {
  /** Success; `verify`: this agent would accept the license now. */
  OK: 0,
  /** The agent answered with a failure (refresh 502, 409, 429; any unexpected answer); `verify`: the license is rejected; `instance-id`: none yet. */
  FAILED: 1,
  /** Usage or configuration error: an unknown option, a bad variable, no admin token or one the agent refused (401), an unreadable file. */
  USAGE: 2,
  /** The agent could not be reached: connection refused or reset, DNS failure, no answer in time. */
  UNREACHABLE: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Ends a command with `code`; `lines` go to stderr, each through the text gate. */
export class CliError extends Error {
  readonly lines: readonly string[];

  constructor(
    readonly code: ExitCode,
    lines: string | readonly string[],
  ) {
    const all = typeof lines === 'string' ? [lines] : lines;
    super(all.join('\n'));
    this.name = 'CliError';
    this.lines = all;
  }
}

/** A command line that cannot be run; the message is followed by a pointer to `--help`. */
export class UsageError extends CliError {
  constructor(message: string, command?: string) {
    super(EXIT.USAGE, [message, `Run 'softclient4es-license ${command === undefined ? '' : `${command} `}--help' for usage.`]);
  }
}

export const PROGRAM = 'softclient4es-license';

export const COMMANDS = ['status', 'refresh', 'verify', 'instance-id'] as const;
export type CommandName = (typeof COMMANDS)[number];

export function isCommand(value: string): value is CommandName {
  return (COMMANDS as readonly string[]).includes(value);
}

/** The options each command accepts (besides `--help`); `--json` is everyone's. */
export const COMMAND_OPTIONS: Readonly<Record<CommandName, readonly string[]>> = {
  status: ['json', 'url', 'token-file', 'timeout'],
  refresh: ['json', 'url', 'token-file', 'timeout'],
  verify: ['json'],
  'instance-id': ['json'],
};

const EXIT_CODES = `Exit codes:
  0  success; verify: this agent would accept the license now
  1  the agent answered with a failure (refresh: HTTP 502, 409 or 429; any
     unexpected answer); verify: the license is rejected; instance-id: none yet
  2  usage or configuration error: unknown command or option, invalid
     environment variable, no admin token or one the agent refused (HTTP 401),
     unreadable file, unusable trusted keys
  3  the agent could not be reached: connection refused or reset, DNS failure,
     no answer within --timeout`;

const AGENT_OPTIONS = `  --url URL           the agent (default http://HOST:PORT from the environment,
                      else http://127.0.0.1:8080)
  --token-file FILE   read the admin token from FILE (default
                      SOFTCLIENT4ES_ADMIN_TOKEN, else <cache dir>/admin-token)
  --timeout DURATION  give up after DURATION, 100ms to 5m (default 30s)`;

export const GENERAL_HELP = `Usage: ${PROGRAM} <command> [options]

Operator commands for the SoftClient4ES license agent. They read the same
environment as the agent (SOFTCLIENT4ES_*: cache directory, trusted keys,
issuer, grace period, admin token).

Commands:
  status [--url URL]       the license in force in a running agent
  refresh [--url URL]      make a running agent refresh its license now
  verify <jwt | file | ->  verify a license token offline, as this agent
                           would judge it now
  instance-id              this installation's instance id (never creates one)

Options:
${AGENT_OPTIONS}
  --json              print JSON: the agent's answer (status, refresh), the
                      verdict (verify), the id (instance-id)
  -h, --help          this help; '${PROGRAM} <command> --help' for one command
  -V, --version       the version

${EXIT_CODES}
`;

const COMMAND_HELP: Readonly<Record<CommandName, string>> = {
  status: `Usage: ${PROGRAM} status [--url URL] [--token-file FILE] [--timeout DURATION] [--json]

Reads GET /admin/license from a running agent and prints the license in force:
tier (trial, degraded), source, organisation, platform, features, quotas,
expiry, days remaining, grace, token, instance id, clock, last and next
refresh, and why each source of the resolution failed. --json prints the
agent's answer as it is.

Options:
${AGENT_OPTIONS}
  --json              the agent's JSON answer

Exit: 0 the status was read; 1 unexpected answer; 2 usage, configuration or
admin token refused (401); 3 agent unreachable.
`,
  refresh: `Usage: ${PROGRAM} refresh [--url URL] [--token-file FILE] [--timeout DURATION] [--json]

Asks a running agent to run its resolution now (POST /admin/license/refresh)
and prints the tier before and after, and the agent's message.

Options:
${AGENT_OPTIONS}
  --json              the agent's JSON answer

Exit: 0 refreshed; 1 the backend step failed (HTTP 502, the license in force is
shown), no API key is configured (409), asked too soon (429) or another
answer; 2 usage, configuration or admin token refused (401); 3 agent
unreachable.
`,
  verify: `Usage: ${PROGRAM} verify <jwt | file | -> [--json]

Verifies a license token offline, with no network: the trusted keys (bundled,
SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS, SOFTCLIENT4ES_LICENSE_PUBLIC_KEY), the
configured issuer and grace period, this installation's instance id (read from
<cache dir>/instance.json, never created) and the clock the agent trusts
(<cache dir>/clock.json). The token is judged as a static license
(SOFTCLIENT4ES_LICENSE_KEY) would be at this moment. Prints the verdict (and
the rejection code), the fingerprint, header and claims, expiry and grace;
never the token itself.

The argument is '-' (read standard input), the path of an existing file (a
token, or the agent's license-cache.json), or else the token itself; prefer a
file or '-': a command line is visible to other users. At most 64 KiB are read.

Options:
  --json              the verdict as JSON

Exit: 0 this agent would accept the license now; 1 rejected; 2 usage,
configuration (unusable trusted keys, invalid variable) or unreadable input.
`,
  'instance-id': `Usage: ${PROGRAM} instance-id [--json]

Prints this installation's instance id from <cache dir>/instance.json
(SOFTCLIENT4ES_LICENSE_CACHE_DIR, default ~/.softclient4es). Creates nothing:
when there is no id yet, the agent creates one at its next start.

Options:
  --json              {"instance_id", "path"} (instance_id null when none)

Exit: 0 printed; 1 no instance id yet, or the file is unusable; 2 usage or
configuration error.
`,
};

export function helpFor(command: CommandName): string {
  return COMMAND_HELP[command];
}
