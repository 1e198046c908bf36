import { getProxyForUrl } from 'proxy-from-env';

/**
 * The proxy variables (DESIGN §4), read once at configuration from the environment the agent was
 * given. Lower case wins over upper case, as proxy-from-env reads them; `ALL_PROXY` is not honoured.
 */
export interface ProxySettings {
  /** `https_proxy` / `HTTPS_PROXY`: the proxy for an https:// backend. May hold credentials. */
  readonly httpsProxy: URL | null;
  /** `http_proxy` / `HTTP_PROXY`: the proxy for an http:// (loopback) backend. May hold credentials. */
  readonly httpProxy: URL | null;
  /** `no_proxy` / `NO_PROXY`: the hosts reached directly, in proxy-from-env's syntax. */
  readonly noProxy: string | null;
}

/** No proxy variable set. */
export const NO_PROXY_SETTINGS: ProxySettings = { httpsProxy: null, httpProxy: null, noProxy: null };

/** The proxy that requests to one backend URL go through. */
export interface ProxyRoute {
  /** The proxy's URL without user or password: no library is ever given the credentials in a URL. */
  readonly url: URL;
  /** `host:port` of the proxy: the only way logs, errors and the status name it. */
  readonly host: string;
  /** The `Proxy-Authorization` value sent with CONNECT when the proxy URL holds credentials. */
  readonly authorization: string | null;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/** The route to `target` under `settings`, as proxy-from-env decides it (`NO_PROXY` included); null: direct. */
export function proxyRouteFor(target: URL, settings: ProxySettings): ProxyRoute | null {
  const chosen = proxyFromSettings(target, settings);
  if (chosen === '') return null;
  const url = new URL(chosen);
  const authorization = proxyAuthorization(url);
  url.username = '';
  url.password = '';
  return { url, host: `${url.hostname}:${url.port || DEFAULT_PORTS[url.protocol] || ''}`, authorization };
}

/**
 * `Basic base64(user:password)` from a proxy URL's percent-decoded credentials (as https-proxy-agent
 * would build it), or null without credentials. Throws `URIError` when they do not decode.
 */
export function proxyAuthorization(url: URL): string | null {
  if (url.username === '' && url.password === '') return null;
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/**
 * The proxy credentials as they may show up in text: as written in the URL, decoded, and as sent.
 * The password is the secret; the user name counts as one only when there is no password (a token
 * given as user name), since a short user name such as `proxy` would redact ordinary words.
 */
export function proxySecrets(settings: ProxySettings): string[] {
  const secrets = new Set<string>();
  for (const url of [settings.httpsProxy, settings.httpProxy]) {
    if (url === null || (url.username === '' && url.password === '')) continue;
    const secret = url.password === '' ? url.username : url.password;
    for (const form of [secret, decodedOr(secret), `${url.username}:${url.password}`, `${decodedOr(url.username)}:${decodedOr(url.password)}`]) {
      secrets.add(form);
    }
    const authorization = authorizationOrNull(url);
    if (authorization !== null) secrets.add(authorization.slice('Basic '.length));
  }
  return [...secrets];
}

/**
 * proxy-from-env reads only `process.env`. For the length of one synchronous call it sees the
 * settings read at configuration instead: the agent honours the environment it was configured
 * from (an embedding host's, a test's), and nothing that changes later. The real environment is
 * neither read nor changed, and no other code can run before it is put back.
 */
function proxyFromSettings(target: URL, settings: ProxySettings): string {
  const variables: NodeJS.ProcessEnv = {};
  if (settings.httpsProxy !== null) variables.https_proxy = settings.httpsProxy.href;
  if (settings.httpProxy !== null) variables.http_proxy = settings.httpProxy.href;
  if (settings.noProxy !== null) variables.no_proxy = settings.noProxy;
  const environment = process.env;
  process.env = variables;
  try {
    return getProxyForUrl(target);
  } finally {
    process.env = environment;
  }
}

function decodedOr(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function authorizationOrNull(url: URL): string | null {
  try {
    return proxyAuthorization(url);
  } catch {
    return null;
  }
}
