import { DJANGO_CSRF, readCookie, readMetaToken } from '../csrf.js';

/** The HTTP address of the GraphQL endpoint, `/<prefix>/graphql/` on the page's own origin. */
export function graphqlHttpUrl(prefix = 'support') {
    const path = String(prefix).replace(/^\/+|\/+$/g, '');
    return `/${path ? `${path}/` : ''}graphql/`;
}

/**
 * Mutations go over HTTP, as the signed-in page (its session cookie and Django's CSRF token):
 * the websocket endpoint runs subscriptions only.
 *
 * @param {object} options
 * @param {string} options.url
 * @param {typeof fetch} [options.fetch]
 * @param {{cookieName?: string, headerName?: string}} [options.csrf]
 * @returns {(query: string, variables: object) => Promise<object>} the operation's data
 */
export function createHttpExecutor({ url, fetch: fetchImpl = globalThis.fetch, csrf = DJANGO_CSRF }) {
    const cookieName = csrf.cookieName ?? DJANGO_CSRF.cookieName;
    const headerName = csrf.headerName ?? DJANGO_CSRF.headerName;
    return async function execute(query, variables) {
        const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
        const token = readCookie(cookieName) ?? readMetaToken();
        if (token) headers[headerName] = token;
        const response = await fetchImpl(url, {
            method: 'POST',
            credentials: 'same-origin',
            // So that a "left" said while the page unloads still goes out.
            keepalive: true,
            headers,
            body: JSON.stringify({ query, variables }),
        });
        const body = await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] }));
        if (body.errors?.length) throw body.errors;
        return body.data;
    };
}
