import { createEcho } from './echo.js';
import { followLivePages } from './live-pages.js';

/** The Inertia page the server rendered (Inertia 3 reads it from this same element). */
export function readInitialPage(doc = globalThis.document) {
    const element = doc?.querySelector('script[data-page="app"][type="application/json"]');
    try {
        return element ? JSON.parse(element.textContent) : null;
    } catch {
        return null;
    }
}

/**
 * `setupEscalated(app, { realtime })`: `window.Echo` becomes the GraphQL-subscription Echo, on
 * the socket of the page's ROUTE_PREFIX (`escalated.prefix`), reloading the listened props with
 * Inertia after a reconnect; and the pages that do not listen themselves are followed.
 *
 * @returns {object} the Echo object
 */
export function installRealtime(router, echoOptions = {}, csrf = undefined) {
    const page = readInitialPage();
    const echo = createEcho({
        prefix: page?.props?.escalated?.prefix ?? 'support',
        csrf,
        reload: (only) => router.reload({ only, preserveScroll: true }),
        ...echoOptions,
    });
    window.Echo = echo;
    followLivePages(router, echo, page);
    // A full page load never unmounts the components: leave here, so that presence says "left"
    // now rather than when the server's entry lapses (PRESENCE_TTL_SECONDS).
    window.addEventListener('pagehide', () => echo.leaveAllChannels());
    return echo;
}
