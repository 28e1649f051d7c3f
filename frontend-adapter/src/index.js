export { setupEscalated, DEFAULT_THEME } from './setup.js';
export { createRoute, readRouteTable, queryString, ROUTE_TABLE_ELEMENT_ID } from './routes.js';
export { resolveEscalatedPage, PAGE_PREFIX, ADAPTER_PAGE_PREFIX } from './pages.js';
export {
    DJANGO_CSRF,
    djangoHttpOptions,
    installDjangoCsrf,
    metaTokenFallback,
    readCookie,
    readMetaToken,
} from './csrf.js';
export { createEcho } from './echo/echo.js';
export { LIVE_PAGES, followLivePages } from './echo/live-pages.js';
