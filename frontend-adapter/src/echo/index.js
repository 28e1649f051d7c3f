export { createEcho } from './echo.js';
export { LIVE_PAGES, followLivePages } from './live-pages.js';
