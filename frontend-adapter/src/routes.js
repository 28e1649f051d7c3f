/**
 * Named URLs for the pages, built from the route table Django serves (Ziggy's shape):
 *
 *     {"url": "http://127.0.0.1:8000", "port": 8000, "defaults": {},
 *      "routes": {"escalated.customer.tickets.show":
 *                   {"uri": "support/tickets/{ticket}", "methods": ["GET", "HEAD"],
 *                    "parameters": ["ticket"]}}}
 *
 * The table is emitted by `{% escalated_head %}` as <script id="escalated-routes"> and also
 * answers at `GET <prefix>/routes.json`.
 */

export const ROUTE_TABLE_ELEMENT_ID = 'escalated-routes';

/** The route table embedded in the page by `{% escalated_head %}`. */
export function readRouteTable(doc = globalThis.document) {
    const element = doc?.getElementById(ROUTE_TABLE_ELEMENT_ID);
    if (!element) {
        throw new Error(
            `[escalated] no <script id="${ROUTE_TABLE_ELEMENT_ID}"> in the page: add ` +
                '{% load escalated %}{% escalated_head %} to the <head> of your INERTIA_LAYOUT, ' +
                'or pass `routes` to setupEscalated().',
        );
    }
    return JSON.parse(element.textContent);
}

const SEGMENT = /\{([^}?]+)(\?)?\}/g;

function segmentsOf(uri) {
    return [...uri.matchAll(SEGMENT)].map(([, name, optional]) => ({ name, optional: !!optional }));
}

function isScalar(value) {
    return typeof value === 'string' || typeof value === 'number';
}

/** Turn the call's params (scalar, array or object) into one object keyed by parameter name. */
function namedParams(name, segments, params) {
    if (params === undefined || params === null) return {};
    if (isScalar(params)) params = [params];
    if (!Array.isArray(params)) return { ...params };

    const named = {};
    let position = 0;
    for (const value of params) {
        if (value !== null && typeof value === 'object') {
            Object.assign(named, value);
        } else if (position < segments.length) {
            named[segments[position++].name] = value;
        } else {
            throw new Error(
                `[escalated] route('${name}') takes ${segments.length} parameter(s) ` +
                    `(${segments.map((s) => s.name).join(', ') || 'none'}); got an extra value '${value}'.`,
            );
        }
    }
    return named;
}

function appendQuery(pairs, key, value) {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
        value.forEach((item) => appendQuery(pairs, `${key}[]`, item));
    } else if (typeof value === 'object') {
        Object.entries(value).forEach(([sub, item]) => appendQuery(pairs, `${key}[${sub}]`, item));
    } else {
        const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
        pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(text)}`);
    }
}

/** The query string (with its `?`) for the parameters no path segment took. */
export function queryString(extra) {
    const pairs = [];
    Object.entries(extra).forEach(([key, value]) => appendQuery(pairs, key, value));
    return pairs.length ? `?${pairs.join('&')}` : '';
}

/**
 * A Ziggy-compatible `route(name, params, absolute)` over one route table.
 *
 * - `params` may be a scalar (the first parameter), an array (parameters in order) or an object
 *   (by name); keys no segment uses go to the query string, and so does the object under `_query`.
 * - Paths are relative (`/support/tickets/ESC-00001`) unless `absolute` is true, so the same
 *   table works whatever host name the browser used; Ziggy's default is absolute.
 * - An unknown name or a missing parameter throws, naming the route: the pages call `route()`
 *   while rendering, and a silent wrong URL is worse than a loud error.
 */
export function createRoute(table) {
    if (!table || typeof table.routes !== 'object') {
        throw new Error('[escalated] a route table needs a `routes` object.');
    }
    const defaults = table.defaults ?? {};
    const origin = String(table.url ?? '').replace(/\/+$/, '');

    function route(name, params, absolute = false) {
        if (name === undefined) {
            throw new Error('[escalated] route() needs a route name; route().current() is not provided.');
        }
        const definition = table.routes[name];
        if (!definition) {
            throw new Error(`[escalated] route('${name}') is not in the route table.`);
        }
        const segments = segmentsOf(definition.uri);
        const { _query: explicitQuery, ...given } = namedParams(name, segments, params);
        const values = { ...defaults, ...given };

        const path = definition.uri.replace(SEGMENT, (_, key, optional) => {
            const value = values[key];
            if (value === undefined || value === null || value === '') {
                if (optional) return '';
                throw new Error(`[escalated] route('${name}') needs the parameter '${key}'.`);
            }
            return encodeURIComponent(String(value));
        });

        const used = new Set(segments.map((segment) => segment.name));
        const extra = Object.fromEntries(
            Object.entries(given).filter(([key]) => !used.has(key)),
        );
        const url = `/${path.replace(/^\/+/, '').replace(/\/{2,}/g, '/')}` +
            queryString({ ...extra, ...(explicitQuery ?? {}) });
        return absolute ? `${origin}${url}` : url;
    }

    return route;
}
