import { config, http, router } from '@inertiajs/vue3';
import { EscalatedPlugin } from '@escalated-dev/escalated';

import { DJANGO_CSRF, installDjangoCsrf } from './csrf.js';
import { installRealtime } from './echo/install.js';
import { createRoute, readRouteTable } from './routes.js';

/** The agent and admin layouts are styled by `--esc-panel-*` variables, set only by a panel theme. */
export const DEFAULT_THEME = Object.freeze({ panel: Object.freeze({ mode: 'dark' }) });

function mergeTheme(theme) {
    if (theme === false) return undefined;
    return { ...DEFAULT_THEME, ...(theme ?? {}), panel: { ...DEFAULT_THEME.panel, ...(theme?.panel ?? {}) } };
}

/**
 * Everything a host's `main.js` needs for the Escalated pages, in the order the package needs it.
 * Call it in `createInertiaApp({ setup })`, after `app.use(plugin)` and before `app.mount(el)`.
 *
 * 1. `route()` from the route table, on `window.route` (the pages' `<script setup>` code) and on
 *    `app.config.globalProperties.route` (their templates), before EscalatedPlugin is installed:
 *    the plugin puts a throwing stub on `window.route` if none is there yet.
 * 2. Inertia's HTTP client told Django's CSRF cookie and header (see csrf.js).
 * 3. Forms that carry files are sent with `name[]` keys (`attachments[]`), which the Django side
 *    reads as lists; Inertia 3.4 would otherwise number them (`attachments[0]`).
 * 4. `app.use(EscalatedPlugin, { theme, layout })`, with the dark panel theme unless told otherwise.
 *
 * @param {import('vue').App} app
 * @param {object} [options]
 * @param {object} [options.routes] a route table; default: the one `{% escalated_head %}` embeds
 * @param {object|false} [options.theme] merged over `{ panel: { mode: 'dark' } }`; false: none
 * @param {object} [options.layout] the host's own layout component for the customer pages
 * @param {{cookieName?: string, headerName?: string}|false} [options.csrf] Django's
 *     CSRF_COOKIE_NAME / CSRF_HEADER_NAME if the host changed them; false if the host sets up
 *     Inertia's HTTP client itself
 * @param {boolean|object} [options.realtime] true, or `createEcho()` options: set `window.Echo`
 *     to the GraphQL-subscription Echo (before the pages mount, which read it once), reload the
 *     listened props after a reconnect, and keep the customer's ticket page live too
 *     (echo/live-pages.js). Without it the pages behave as without Laravel Echo: the ticket page
 *     polls presence, lists refresh on navigation.
 * @returns {(name: string, params?: unknown, absolute?: boolean) => string} the `route` installed
 */
export function setupEscalated(app, options = {}) {
    const route = createRoute(options.routes ?? readRouteTable());
    window.route = route;
    app.config.globalProperties.route = route;

    if (options.csrf !== false) {
        installDjangoCsrf(http, { ...DJANGO_CSRF, ...(options.csrf ?? {}) });
    }

    config.set('form.forceIndicesArrayFormatInFormData', false);

    if (options.realtime) {
        installRealtime(router, options.realtime === true ? {} : options.realtime, { ...DJANGO_CSRF, ...(options.csrf || {}) });
    }

    const pluginOptions = {};
    const theme = mergeTheme(options.theme);
    if (theme) pluginOptions.theme = theme;
    if (options.layout) pluginOptions.layout = options.layout;
    app.use(EscalatedPlugin, pluginOptions);

    return route;
}
