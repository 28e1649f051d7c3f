import { describe, expect, it } from 'vitest';

import { createRoute, queryString, readRouteTable } from '../src/routes.js';
// What the demo's GET /support/routes.json answers (python -m tests.route_fixture writes it).
import table from './fixtures/routes.json';

const route = createRoute(table);

describe('route() over the route table Django serves', () => {
    it('builds the paths of routes without parameters', () => {
        expect(route('escalated.customer.tickets.index')).toBe('/support/');
        expect(route('escalated.customer.tickets.create')).toBe('/support/tickets/create/');
        expect(route('escalated.customer.tickets.store')).toBe('/support/tickets/');
        expect(route('login')).toBe('/login/');
    });

    it('takes a ticket reference as a scalar, an array or by name', () => {
        const show = '/support/tickets/ESC-00042/';
        expect(route('escalated.customer.tickets.show', 'ESC-00042')).toBe(show);
        expect(route('escalated.customer.tickets.show', ['ESC-00042'])).toBe(show);
        expect(route('escalated.customer.tickets.show', { ticket: 'ESC-00042' })).toBe(show);
        expect(route('escalated.customer.tickets.reply', 'ESC-00042')).toBe('/support/tickets/ESC-00042/reply/');
    });

    it('takes numbers for numeric parameters', () => {
        expect(route('escalated.attachments.download', 7)).toBe('/support/attachments/7/');
    });

    it('puts the parameters no segment takes into the query string', () => {
        expect(route('escalated.customer.tickets.index', { status: 'open', search: 'a b&c' })).toBe(
            '/support/?status=open&search=a%20b%26c',
        );
        expect(route('escalated.customer.tickets.show', { ticket: 'ESC-1', tab: 'replies' })).toBe(
            '/support/tickets/ESC-1/?tab=replies',
        );
        expect(
            route('escalated.customer.tickets.index', { _query: { following: true, tag: ['vip', 'bug'] } }),
        ).toBe('/support/?following=1&tag%5B%5D=vip&tag%5B%5D=bug');
    });

    it('escapes values in path segments', () => {
        expect(route('escalated.customer.tickets.show', 'a/b?c')).toBe('/support/tickets/a%2Fb%3Fc/');
    });

    it("gives absolute URLs on request, from the table's url", () => {
        expect(route('escalated.customer.tickets.show', 'ESC-1', true)).toBe(
            `${table.url}/support/tickets/ESC-1/`,
        );
        expect(table.url).toBe('http://127.0.0.1:8000');
    });

    it('throws, naming the route, for an unknown name, a missing or an extra parameter', () => {
        expect(() => route('escalated.customer.tickets.nope')).toThrow(
            "route('escalated.customer.tickets.nope') is not in the route table",
        );
        expect(() => route('escalated.customer.tickets.show')).toThrow(
            "route('escalated.customer.tickets.show') needs the parameter 'ticket'",
        );
        expect(() => route('escalated.customer.tickets.show', { id: 3 })).toThrow(/needs the parameter 'ticket'/);
        expect(() => route('escalated.customer.tickets.show', ['ESC-1', 'extra'])).toThrow(
            "takes 1 parameter(s) (ticket); got an extra value 'extra'",
        );
        expect(() => route()).toThrow('route() needs a route name');
    });

    it('applies the table defaults and optional segments', () => {
        const withDefaults = createRoute({
            ...table,
            defaults: { locale: 'en' },
            routes: { ...table.routes, localised: { uri: 'help/{locale}/{page?}', methods: ['GET'], parameters: ['locale', 'page'] } },
        });
        expect(withDefaults('localised')).toBe('/help/en/');
        expect(withDefaults('localised', { locale: 'fr', page: 'faq' })).toBe('/help/fr/faq');
    });

    it('knows every route the demo serves, with the parameters the table lists', () => {
        for (const [name, { parameters }] of Object.entries(table.routes)) {
            const url = route(name, parameters.map((p, i) => `${p}${i}`));
            for (const [i, p] of parameters.entries()) expect(url).toContain(`/${p}${i}`);
            expect(url.startsWith('/')).toBe(true);
        }
    });
});

describe('the calls the shared pages make (contract section 0.3)', () => {
    it('pins with [reference, replyId]', () => {
        expect(route('escalated.agent.tickets.pin', ['ESC-00001', 12])).toBe(
            '/support/agent/tickets/ESC-00001/replies/12/pin/',
        );
    });

    it('addresses admin records by numeric id, guests by token', () => {
        expect(route('escalated.admin.departments.update', 3)).toBe('/support/admin/departments/3/');
        expect(route('escalated.admin.departments.edit', 3)).toBe('/support/admin/departments/3/edit/');
        expect(route('escalated.guest.tickets.reply', 'a'.repeat(64))).toBe(`/support/guest/${'a'.repeat(64)}/reply/`);
    });

    it("sends the reports page's object params to the query string", () => {
        expect(route('escalated.admin.reports.dashboard', { days: 30 })).toBe('/support/admin/reports/dashboard/?days=30');
    });

    it('knows every route name the in-scope pages call', () => {
        const resources = ['departments', 'sla-policies', 'escalation-rules'].flatMap((r) =>
            ['create', 'edit', 'destroy', 'store', 'update'].map((a) => `escalated.admin.${r}.${a}`),
        );
        const names = [
            ...['index', 'create', 'store', 'show', 'close', 'reopen', 'rate', 'reply'].map((a) => `escalated.customer.tickets.${a}`),
            'escalated.guest.tickets.store', 'escalated.guest.tickets.reply', 'escalated.guest.tickets.rate', 'login',
            ...['index', 'bulk', 'show', 'status', 'priority', 'assign', 'follow', 'macro', 'reply', 'note', 'presence', 'pin'].map(
                (a) => `escalated.agent.tickets.${a}`,
            ),
            'escalated.admin.reports',
            ...['dashboard', 'agents', 'sla', 'csat'].map((r) => `escalated.admin.reports.${r}`),
            ...resources,
            'escalated.admin.tags.store', 'escalated.admin.tags.update', 'escalated.admin.tags.destroy',
            'escalated.admin.canned-responses.store', 'escalated.admin.canned-responses.destroy',
            'escalated.admin.settings.update', 'escalated.attachments.download',
        ];
        expect(names.filter((name) => !(name in table.routes))).toEqual([]);
    });
});

describe('queryString', () => {
    it('encodes nested objects and booleans as Ziggy does, and drops null values', () => {
        expect(queryString({ filter: { status: 'open' }, live: false, none: null })).toBe(
            '?filter%5Bstatus%5D=open&live=0',
        );
        expect(queryString({})).toBe('');
    });
});

describe('readRouteTable', () => {
    it('reads the table {% escalated_head %} embeds', () => {
        document.body.innerHTML = `<script type="application/json" id="escalated-routes">${JSON.stringify(table)}</script>`;
        expect(readRouteTable().routes['escalated.customer.tickets.show'].uri).toBe('support/tickets/{ticket}/');
    });

    it('says what to add when the page has no table', () => {
        document.body.innerHTML = '';
        expect(() => readRouteTable()).toThrow(/\{% escalated_head %\}/);
    });
});
