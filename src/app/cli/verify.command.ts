import { randomUUID } from 'node:crypto';
import { licenseFields } from '../../adapters/express/license-status.body.js';
import { StateDirectory } from '../../adapters/fs/state-directory.js';
import { tokenFingerprint } from '../../adapters/jose/jose-license-verifier.js';
import { TrustedKeysError } from '../../adapters/jose/trusted-keys.js';
import { LowdbHighWaterMarkStore } from '../../adapters/lowdb/lowdb-high-water-mark-store.js';
import { storedInstanceId, type StoredInstanceId } from '../../adapters/lowdb/lowdb-instance-id-store.js';
import { SystemClock } from '../../adapters/system/system-clock.js';
import { describeFailure, LicenseTokenError, type Failure } from '../../domain/model/errors.js';
import { licenseFromToken, type VerifiedLicenseToken } from '../../domain/model/license.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import { assertNotSuperseded } from '../../domain/resolution/superseded.js';
import type { HighWaterMarkStore } from '../../ports/high-water-mark-store.port.js';
import { textGateFor } from '../config.js';
import { HighWaterClock } from '../high-water-clock.js';
import { createLicenseVerifier } from '../license-verifier.js';
import { cliConfig } from './environment.js';
import { isJsonObject, licenseRows, Show, type JsonObject } from './license-table.js';
import { CollectingLogger, columns, renderRows, write, writeJson, writeWarnings, type Row } from './output.js';
import { readTokenInput } from './token-input.js';
import { CliError, EXIT, type ExitCode } from './usage.js';

/** The time claims are shown as dates next to their NumericDate. */
const DATE_CLAIMS = new Set(['iat', 'exp', 'nbf']);

/**
 * `verify`: judges a token offline exactly as the agent would judge it as its static license at
 * this moment — the agent's verifier and trusted keys (`createLicenseVerifier`), its issuer and
 * grace period, this installation's instance id and the agent's trusted clock, all read without
 * writing anything. Loads neither Express, Inversify nor the metrics.
 */
export async function verifyCommand(operand: string, options: { readonly json: boolean }): Promise<ExitCode> {
  const config = cliConfig();
  const gate = textGateFor(config);
  const logger = new CollectingLogger(gate);
  const input = await readTokenInput(operand);

  const directory = new StateDirectory(config.cacheDir, logger);
  const instance = await storedInstanceId(directory);
  const clock = new HighWaterClock(new SystemClock(), readOnly(new LowdbHighWaterMarkStore(directory)), logger);
  await clock.load();
  const judgedAt = clock.now();
  const suspect = clock.suspect;

  let verifier;
  try {
    // Without a stored id the agent would make a new one: no bound token could match it.
    const instanceId = instance.state === 'present' ? instance.id : randomUUID();
    verifier = await createLicenseVerifier(config, { instanceId, clock: { now: () => judgedAt }, logger });
  } catch (error) {
    if (error instanceof TrustedKeysError) throw new CliError(EXIT.USAGE, `Invalid trusted license keys: ${error.message}`);
    throw error;
  }
  let token: VerifiedLicenseToken | null = null;
  let failure: Failure | null = null;
  try {
    token = await verifier.verify(input.jwt);
  } catch (error) {
    if (!(error instanceof LicenseTokenError)) throw error;
    failure = describeFailure(error, gate);
  }
  if (token !== null) {
    try {
      assertNotSuperseded(token, clock);
    } catch (error) {
      const superseded = describeFailure(error, gate);
      logger.warn(`As a backend-issued or cached license it would be refused (${superseded.code}): ${superseded.message}`);
    }
  }

  const decoded = decodeUnverified(input.jwt);
  const verdict = {
    accepted: token !== null,
    code: failure?.code ?? null,
    message: failure?.message ?? null,
    fingerprint: tokenFingerprint(input.jwt),
    judged_at: judgedAt.toISOString(),
    clock: { suspect },
    instance_id: instance.state === 'present' ? instance.id : null,
    header: gatedJson(decoded.header, gate),
    claims: gatedJson(decoded.claims, gate),
    license: token === null ? null : licenseFields(licenseFromToken(token, 'static'), judgedAt, gate),
    warnings: logger.warnings,
  };
  if (options.json) {
    writeJson(verdict, gate);
  } else {
    write(renderRows(verdictRows(verdict, instance, new Show(gate))));
    writeWarnings(logger.warnings);
  }
  return token === null ? EXIT.FAILED : EXIT.OK;
}

type Verdict = {
  readonly accepted: boolean;
  readonly code: string | null;
  readonly message: string | null;
  readonly fingerprint: string;
  readonly judged_at: string;
  readonly clock: { readonly suspect: boolean };
  readonly header: unknown;
  readonly claims: unknown;
  readonly license: JsonObject | null;
};

function verdictRows(verdict: Verdict, instance: StoredInstanceId, show: Show): Row[] {
  const header = isJsonObject(verdict.header) ? verdict.header : null;
  const unverified = verdict.accepted ? '' : ' (unverified)';
  const rows: Row[] = [
    [
      'Verdict',
      verdict.accepted
        ? 'ACCEPTED: this agent would use this license now (as its static license)'
        : `REJECTED: ${show.text(verdict.code)}: ${show.text(verdict.message)}`,
    ],
    ['Fingerprint', verdict.fingerprint],
    ['Key id (kid)', show.text(header?.kid)],
    [
      'Judged at',
      `${verdict.judged_at} ${verdict.clock.suspect ? '(the high-water mark: the system clock runs behind the time already seen)' : '(system clock)'}`,
    ],
    ['Instance id', instanceText(instance, show)],
  ];
  if (verdict.license !== null) rows.push(...licenseRows(verdict.license, show, { source: false, token: false }));
  rows.push([`Header${unverified}`, objectText(verdict.header, show)], [`Claims${unverified}`, objectText(verdict.claims, show)]);
  return rows;
}

function instanceText(instance: StoredInstanceId, show: Show): string {
  switch (instance.state) {
    case 'present':
      return instance.id;
    case 'absent':
      return `none yet (${show.text(instance.path)} does not exist): a license bound to an instance is refused`;
    case 'unusable':
      return `none usable (${show.text(instance.reason)}): a license bound to an instance is refused`;
  }
}

function objectText(value: unknown, show: Show): string {
  if (!isJsonObject(value)) return 'not readable';
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  return columns(
    entries.map(([name, claim]) => {
      const date = DATE_CLAIMS.has(name) && typeof claim === 'number' ? isoDate(claim) : null;
      return [show.text(name), `${show.text(claim)}${date === null ? '' : ` (${date})`}`];
    }),
  );
}

function isoDate(seconds: number): string | null {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The clock's memory as the agent left it: read, never written (verify changes nothing). */
function readOnly(store: HighWaterMarkStore): HighWaterMarkStore {
  return { load: () => store.load(), save: async () => undefined };
}

/**
 * Header and payload as JSON objects, decoded without any check, to show what a token says
 * (verified or not); null when a part is not a JSON object.
 */
function decodeUnverified(jwt: string): { header: unknown; claims: unknown } {
  const [header, payload] = jwt.split('.');
  return { header: jsonSegment(header), claims: jsonSegment(payload) };
}

function jsonSegment(segment: string | undefined): unknown {
  if (segment === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return isJsonObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** A copy of decoded JSON with every string (keys included) through the text gate; bounded in depth and breadth. */
function gatedJson(value: unknown, gate: TextGate, depth = 0): unknown {
  if (typeof value === 'string') return gate.pass(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (depth >= 4) return gate.pass(JSON.stringify(value));
  if (Array.isArray(value)) return value.slice(0, 100).map((item) => gatedJson(item, gate, depth + 1));
  if (isJsonObject(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .slice(0, 100)
        .map(([name, item]) => [gate.pass(name, 64), gatedJson(item, gate, depth + 1)]),
    );
  }
  return null;
}
