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
export { LIVE_PAGES, createEcho, followLivePages } from './echo/index.js';
