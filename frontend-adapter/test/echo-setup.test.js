import { router } from '@inertiajs/vue3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, h } from 'vue';

import { LIVE_PAGES, followLivePages } from '../src/echo/live-pages.js';
import { setupEscalated } from '../src/setup.js';
import table from './fixtures/routes.json';

beforeEach(() => {
    delete window.Echo;
    const page = { component: 'Escalated/Agent/TicketIndex', props: { escalated: { prefix: 'helpdesk' } }, url: '/' };
    document.body.innerHTML =
        `<script type="application/json" id="escalated-routes">${JSON.stringify(table)}</script>` +
        `<script data-page="app" type="application/json">${JSON.stringify(page)}</script>`;
});
afterEach(() => {
    window.Echo?.disconnect();
    delete window.Echo;
});

describe('setupEscalated(app, { realtime })', () => {
    it('puts an Echo-shaped object on window.Echo before the pages mount', () => {
        setupEscalated(createApp({ render: () => h('div') }), { realtime: true });
        for (const method of ['private', 'join', 'channel', 'leave', 'leaveChannel', 'disconnect', 'socketId', 'listen']) {
            expect(typeof window.Echo[method]).toBe('function');
        }
        expect(window.Echo.options.prefix).toBe('helpdesk');
        expect(window.Echo.socketId()).toBeUndefined();
    });

    it('takes createEcho options in place of true', () => {
        setupEscalated(createApp({ render: () => h('div') }), { realtime: { prefix: 'other', presenceHeartbeatMs: 5 } });
        expect(window.Echo.options).toMatchObject({ prefix: 'other', presenceHeartbeatMs: 5 });
    });

    it('reloads the props through Inertia after a reconnect', () => {
        const reload = vi.spyOn(router, 'reload').mockImplementation(() => {});
        setupEscalated(createApp({ render: () => h('div') }), { realtime: true });
        window.Echo.options.reload(['ticket']);
        expect(reload).toHaveBeenCalledWith({ only: ['ticket'], preserveScroll: true });
        reload.mockRestore();
    });
});

describe('followLivePages', () => {
    function fakes() {
        const handlers = [];
        const listened = [];
        const left = [];
        const router = { on: (_name, cb) => (handlers.push(cb), () => {}), reload: vi.fn() };
        const echo = {
            private: (name) => ({ listen: (event, cb) => listened.push([name, event, cb]) }),
            leave: (name) => left.push(name),
        };
        const visit = (page) => handlers.forEach((cb) => cb({ detail: { page } }));
        return { router, echo, listened, left, visit };
    }

    it("listens on the customer's ticket page, reloads its ticket, and leaves on the next page", () => {
        const { router, echo, listened, left, visit } = fakes();
        const show = { component: 'Escalated/Customer/Show', props: { ticket: { id: 4 } } };
        followLivePages(router, echo, show);
        visit(show); // the initial navigate event: nothing doubles
        expect(listened.map(([name, event]) => `${name} ${event}`)).toEqual([
            'escalated.tickets.4 .reply.created',
            'escalated.tickets.4 .ticket.updated',
            'escalated.tickets.4 .ticket.status_changed',
            'escalated.tickets.4 .ticket.assigned',
        ]);
        listened[0][2]({});
        expect(router.reload).toHaveBeenCalledWith({ only: ['ticket'], preserveScroll: true });
        visit({ component: 'Escalated/Customer/Index', props: {} });
        expect(left).toEqual(['escalated.tickets.4']);
    });

    it('names only pages that do not listen themselves', () => {
        expect(Object.keys(LIVE_PAGES)).toEqual(['Escalated/Customer/Show']);
    });
});
