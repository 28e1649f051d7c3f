import type { App } from 'vue';

import type { Echo, EchoOptions } from './echo';

export * from './echo';

export type Route = (name: string, params?: unknown, absolute?: boolean) => string;

export interface RouteTable {
    url: string;
    port?: number | null;
    defaults: Record<string, unknown>;
    routes: Record<string, { uri: string; methods: string[]; parameters?: string[] }>;
}

export interface CsrfNames {
    cookieName?: string;
    headerName?: string;
}

export interface SetupOptions {
    /** A route table; default: the one `{% escalated_head %}` embeds. */
    routes?: RouteTable;
    /** Merged over `{ panel: { mode: 'dark' } }`; false: no theme. */
    theme?: Record<string, unknown> | false;
    /** The host's own layout component for the customer pages. */
    layout?: unknown;
    /** Django's CSRF_COOKIE_NAME / CSRF_HEADER_NAME; false if the host sets up Inertia's client. */
    csrf?: CsrfNames | false;
    /** true, or createEcho() options: window.Echo over the GraphQL subscriptions. */
    realtime?: boolean | EchoOptions;
}

export const DEFAULT_THEME: Readonly<{ panel: Readonly<{ mode: 'dark' }> }>;

/** route(), CSRF wiring, EscalatedPlugin and (with `realtime`) window.Echo, in one call. */
export function setupEscalated(app: App, options?: SetupOptions): Route;

export const ROUTE_TABLE_ELEMENT_ID: string;
export function readRouteTable(doc?: Document): RouteTable;
export function createRoute(table: RouteTable): Route;
export function queryString(extra: Record<string, unknown>): string;

export const PAGE_PREFIX: string;
export const ADAPTER_PAGE_PREFIX: string;
export function resolveEscalatedPage(
    escalatedPages: Record<string, () => Promise<unknown>>,
    hostPages?: Record<string, () => Promise<unknown>>,
): (name: string) => Promise<unknown>;

export const DJANGO_CSRF: Readonly<Required<CsrfNames>>;
export function readCookie(name: string, doc?: Document): string | null;
export function readMetaToken(doc?: Document): string | null;
export function djangoHttpOptions(names?: CsrfNames): { xsrfCookieName: string; xsrfHeaderName: string };
export function metaTokenFallback(names?: CsrfNames, doc?: Document): (config: any) => any;
export function installDjangoCsrf(http: unknown, names?: CsrfNames, doc?: Document): unknown;

declare global {
    interface Window {
        Echo?: Echo;
        route?: Route;
    }
}
