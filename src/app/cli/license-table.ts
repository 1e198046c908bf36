import type { TextGate } from '../../domain/model/safe-text.js';
import { columns, type Row } from './output.js';

/**
 * The human table of `status` and `verify`, in the spirit of the original product's SHOW LICENSE.
 * It formats the fields of the admin API's license status (`GET /admin/license`, or the same fields
 * that `licenseFields` gives `verify`): it computes nothing, it only words what the agent said.
 * Every text passes the text gate (an agent answer is outside input); unknown or missing fields
 * read as "-", so that a newer or older agent still prints.
 */
export type JsonObject = Readonly<Record<string, unknown>>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How values are shown: through the gate, `-` for null or missing, numbers grouped, null quotas "unlimited". */
export class Show {
  constructor(private readonly gate: TextGate) {}

  text(value: unknown): string {
    if (value === null || value === undefined || value === '') return '-';
    return this.gate.pass(typeof value === 'string' ? value : JSON.stringify(value));
  }

  number(value: unknown): string {
    // Grouped by hand: toLocaleString would load ICU's locale data, a third of verify's run time.
    return typeof value === 'number' && Number.isSafeInteger(value) ? String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : this.text(value);
  }

  days(value: unknown): string {
    return typeof value === 'number' ? `${this.number(value)} ${value === 1 ? 'day' : 'days'}` : this.text(value);
  }

  limit(value: unknown): string {
    return value === null ? 'unlimited' : this.number(value);
  }
}

const field = (body: JsonObject, name: string): JsonObject => {
  const value = body[name];
  return isJsonObject(value) ? value : {};
};

export interface LicenseRowsOptions {
  /** Show the `source` row (false in `verify`, which judges the token as a static license). */
  readonly source?: boolean;
  /** Show the `token` row (false in `verify`, which prints the token's own section). */
  readonly token?: boolean;
}

/** Tier, source, organisation, platform, features, quotas, expiry, days remaining, grace, token. */
export function licenseRows(body: JsonObject, show: Show, options: LicenseRowsOptions = {}): Row[] {
  const rows: Row[] = [['Tier', tierText(body, show)]];
  if (options.source !== false) rows.push(['Source', show.text(body.source)]);
  rows.push(
    ['License id', show.text(body.license_id)],
    ['Organization', show.text(body.org_name)],
    ['Platform', show.text(body.platform)],
    ['Features', Array.isArray(body.features) ? (body.features.length === 0 ? 'none' : body.features.map((f) => show.text(f)).join(', ')) : '-'],
    ['Quotas', quotasText(field(body, 'quotas'), show)],
    ['Expires', body.expires_at === null ? 'never' : show.text(body.expires_at)],
    ['Days remaining', show.number(body.days_remaining)],
    ['Grace', graceText(field(body, 'grace'), show)],
    ['Grace period', body.grace_period_days === null ? '-' : `${show.days(body.grace_period_days)} after expiry`],
  );
  if (options.token !== false) rows.push(['Token', tokenText(body.token, show)]);
  return rows;
}

/** The whole `status` table: the license, then the agent's instance, clock, refresh and resolution. */
export function statusRows(body: JsonObject, show: Show): Row[] {
  const clock = field(body, 'clock');
  const refresh = field(body, 'refresh');
  return [
    ...licenseRows(body, show),
    [
      'Instance id',
      field(body, 'instance').cloned === true
        ? `${show.text(body.instance_id)} (CLONED: the cache directory was copied from another machine; see SOFTCLIENT4ES_INSTANCE_ON_CLONE)`
        : show.text(body.instance_id),
    ],
    [
      'Clock',
      clock.suspect === true
        ? `SUSPECT: the system clock runs behind the time already seen; expiry is judged by ${show.text(clock.high_water_at)}`
        : 'ok',
    ],
    ['Enforcement', body.enforcement_mode === 'shadow' ? 'shadow (nothing is refused; would-be refusals are counted and marked)' : show.text(body.enforcement_mode)],
    ['Usage', usageText(field(body, 'usage'), show)],
    ['Last refresh', lastRefreshText(refresh, show)],
    ['Next refresh', nextRefreshText(refresh, show)],
    ['Resolution', resolutionText(body.resolution, show)],
    ['Last reload', lastReloadText(field(body, 'reload'), show)],
  ];
}

function lastReloadText(reload: JsonObject, show: Show): string {
  if (typeof reload.last_at !== 'string') return 'never';
  const error = typeof reload.last_error === 'string' ? `: FAILED, the previous configuration stays in force: ${show.text(reload.last_error)}` : ': ok';
  return `${show.text(reload.last_at)}${error}`;
}

function tierText(body: JsonObject, show: Show): string {
  const flags = [body.trial === true && 'trial', body.degraded === true && 'DEGRADED: a paid license was lost'].filter(Boolean);
  return `${show.text(body.tier)}${flags.length > 0 ? ` (${flags.join('; ')})` : ''}`;
}

function quotasText(quotas: JsonObject, show: Show): string {
  const names = Object.keys(quotas);
  return names.length === 0 ? '-' : columns(names.map((name) => [show.text(name), show.limit(quotas[name])]));
}

/** Each quota's usage in the agent's process next to its limit, and the overage after a downgrade. */
function usageText(usage: JsonObject, show: Show): string {
  const names = Object.keys(usage);
  if (names.length === 0) return '-';
  return columns(
    names.map((name) => {
      const quota = field(usage, name);
      const over = typeof quota.overage === 'number' && quota.overage > 0 ? ` (${show.number(quota.overage)} over the limit)` : '';
      return [show.text(name), `${show.number(quota.current)} of ${show.limit(quota.limit)}${over}`];
    }),
  );
}

function graceText(grace: JsonObject, show: Show): string {
  if (grace.status === 'early' || grace.status === 'mid') {
    return `${grace.status} grace: expired ${show.days(grace.days_expired)} ago, ${show.days(grace.days_remaining)} left`;
  }
  return show.text(grace.status);
}

function tokenText(token: unknown, show: Show): string {
  if (!isJsonObject(token)) return '-';
  const parts = [`kid ${show.text(token.kid)}`, `fingerprint ${show.text(token.fingerprint)}`];
  if (token.jti !== null && token.jti !== undefined) parts.push(`jti ${show.text(token.jti)}`);
  return parts.join(', ');
}

function lastRefreshText(refresh: JsonObject, show: Show): string {
  if (refresh.last_attempt_at === null || refresh.last_attempt_at === undefined) return 'never';
  const error = refresh.last_error === null || refresh.last_error === undefined ? '' : `: ${show.text(refresh.last_error)}`;
  return `${show.text(refresh.last_attempt_at)} ${show.text(refresh.last_outcome)}${error}`;
}

function nextRefreshText(refresh: JsonObject, show: Show): string {
  if (typeof refresh.next_at === 'string') return show.text(refresh.next_at);
  return refresh.enabled === false ? 'none (periodic refresh is off: no API key, or SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED=false)' : '-';
}

function resolutionText(resolution: unknown, show: Show): string {
  if (!Array.isArray(resolution) || resolution.length === 0) return '-';
  return columns(
    resolution.map((attempt: unknown) => {
      const a = isJsonObject(attempt) ? attempt : {};
      const why = [a.code, a.message].filter((part) => typeof part === 'string' && part !== '').map((part) => show.text(part));
      return [show.text(a.source), show.text(a.outcome), why.join(': ')];
    }),
  );
}
