/**
 * CSRF between the Inertia 3 client and Django, with CSRF protection left on for every view.
 *
 * - Inertia's XHR client copies a cookie into a header on every request; its defaults are
 *   Laravel's (`XSRF-TOKEN` → `X-XSRF-TOKEN`). Django's are `csrftoken` → `X-CSRFToken`
 *   (settings CSRF_COOKIE_NAME and CSRF_HEADER_NAME), so the client is given those names.
 * - When the cookie cannot be read (CSRF_COOKIE_HTTPONLY = True, or CSRF_USE_SESSIONS), the token
 *   comes from `<meta name="csrf-token">`, which `{% escalated_head %}` writes.
 * - The package's own fetch() calls (presence, typing, mentions) send the meta tag's value as
 *   `X-CSRF-TOKEN`; the Django side accepts that header too, so nothing is needed here for them.
 */

export const DJANGO_CSRF = Object.freeze({ cookieName: 'csrftoken', headerName: 'X-CSRFToken' });

const SAFE_METHODS = new Set(['get', 'head', 'options', 'trace']);

export function readCookie(name, doc = globalThis.document) {
    const prefix = `${name}=`;
    const found = String(doc?.cookie ?? '')
        .split(';')
        .map((part) => part.trim())
        .find((part) => part.startsWith(prefix));
    return found === undefined ? null : decodeURIComponent(found.slice(prefix.length));
}

export function readMetaToken(doc = globalThis.document) {
    return doc?.querySelector('meta[name="csrf-token"]')?.getAttribute('content') || null;
}

/** Options for `createInertiaApp({ http })` / `http.setClient()`: Django's cookie and header. */
export function djangoHttpOptions({ cookieName, headerName } = DJANGO_CSRF) {
    return {
        xsrfCookieName: cookieName ?? DJANGO_CSRF.cookieName,
        xsrfHeaderName: headerName ?? DJANGO_CSRF.headerName,
    };
}

/**
 * A request handler for Inertia's `http.onRequest`: on unsafe methods without the cookie, add
 * the header from the meta tag (the client already adds it from a readable cookie).
 */
export function metaTokenFallback({ cookieName, headerName } = DJANGO_CSRF, doc = globalThis.document) {
    const cookie = cookieName ?? DJANGO_CSRF.cookieName;
    const header = headerName ?? DJANGO_CSRF.headerName;
    return function addMetaToken(config) {
        if (SAFE_METHODS.has(String(config.method ?? 'get').toLowerCase())) return config;
        if (readCookie(cookie, doc) !== null) return config;
        const token = readMetaToken(doc);
        if (!token) return config;
        return { ...config, headers: { ...(config.headers ?? {}), [header]: token } };
    };
}

/** Point the Inertia client (its `http` module) at Django's CSRF cookie, header and meta tag. */
export function installDjangoCsrf(http, names = DJANGO_CSRF, doc = globalThis.document) {
    http.setClient(djangoHttpOptions(names));
    return http.onRequest(metaTokenFallback(names, doc));
}
