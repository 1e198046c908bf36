// proxy-from-env@2 ships no type declarations.
declare module 'proxy-from-env' {
  /**
   * The proxy URL for `url` from `http_proxy`, `https_proxy`, `all_proxy` and `no_proxy` (lower
   * case first, then upper case) in `process.env`; an empty string when it goes direct.
   */
  export function getProxyForUrl(url: string | URL): string;
}
