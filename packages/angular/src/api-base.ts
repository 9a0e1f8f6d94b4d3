/**
 * The Latchkey API's location, resolved once from `apiUrl` and the page's base URL: every
 * request URL is then compared with it, not re-parsed against the configuration.
 */
export interface ApiBase {
  /** The absolute URL of an API path such as `/auth/login` (or as configured, when relative). */
  url(path: `/auth/${string}` | '/auth' | `/admin/${string}`): string;
  /**
   * True when `url` is under the API's `/auth/` or `/admin/` on the API's origin: only such requests get the
   * bearer token and cookies (a look-alike host, another scheme or another path gets neither).
   */
  covers(url: string): boolean;
}

/**
 * Resolves `apiUrl` (`''` for the page's own origin, or `https://auth.example.com`, optionally
 * with a path prefix) against `baseUri` (the document's base URL; on a server there is none).
 */
export function createApiBase(apiUrl: string, baseUri: string | undefined): ApiBase {
  const prefix = apiUrl.replace(/\/+$/, '');
  const fallbackBase = 'http://localhost/';
  let api: URL | undefined;
  let admin: URL | undefined;
  try {
    api = new URL(`${prefix}/auth/`, baseUri ?? fallbackBase);
    admin = new URL(`${prefix}/admin/`, baseUri ?? fallbackBase);
  } catch {
    api = undefined;
  }
  return {
    url: (path) => `${prefix}${path}`,
    covers(url) {
      if (api === undefined) return false;
      let target: URL;
      try {
        target = new URL(url, baseUri ?? fallbackBase);
      } catch {
        return false;
      }
      return (
        target.origin === api.origin &&
        (target.pathname.startsWith(api.pathname) ||
          (admin !== undefined && target.pathname.startsWith(admin.pathname)))
      );
    },
  };
}
