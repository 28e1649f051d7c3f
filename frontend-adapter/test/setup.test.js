import { config, http, router } from '@inertiajs/vue3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, h } from 'vue';

import { setupEscalated } from '../src/setup.js';
import table from './fixtures/routes.json';

function mountWith(options, template) {
    const app = createApp({ render: template });
    const route = setupEscalated(app, options);
    const el = document.createElement('div');
    document.body.appendChild(el);
    app.mount(el);
    return { app, route, el };
}

beforeEach(() => {
    delete window.route;
    document.documentElement.removeAttribute('style');
    document.head.innerHTML = `<meta name="csrf-token" content="t">`;
    document.body.innerHTML = `<script type="application/json" id="escalated-routes">${JSON.stringify(table)}</script>`;
});
afterEach(() => http.setClient({}));

describe('setupEscalated with the real EscalatedPlugin', () => {
    it('installs route() on window and for templates before the plugin, from the embedded table', () => {
        const { app, route, el } = mountWith({}, function () {
            return h('a', { href: this.route('escalated.customer.tickets.show', 'ESC-00001') });
        });
        expect(window.route).toBe(route);
        expect(app.config.globalProperties.route).toBe(route);
        // The plugin's shim throws; ours survived the install.
        expect(window.route('escalated.customer.tickets.index')).toBe('/support/');
        expect(el.querySelector('a').getAttribute('href')).toBe('/support/tickets/ESC-00001/');
    });

    it('applies the dark panel theme by default, and the host theme over it', () => {
        mountWith({}, () => h('div'));
        const style = document.documentElement.style;
        expect(style.getPropertyValue('--esc-panel-bg')).toBe('#000000');

        document.documentElement.removeAttribute('style');
        mountWith({ theme: { primary: '#ff0000', panel: { mode: 'light' } } }, () => h('div'));
        expect(style.getPropertyValue('--esc-panel-bg')).toBe('#f9fafb');
        expect(style.getPropertyValue('--esc-primary')).toBe('#ff0000');
    });

    it('leaves the theme alone when told theme: false', () => {
        mountWith({ theme: false }, () => h('div'));
        expect(document.documentElement.style.getPropertyValue('--esc-panel-bg')).toBe('');
    });

    it('takes a route table passed in instead of the embedded one', () => {
        document.body.innerHTML = '';
        const routes = { url: 'http://x', routes: { 'escalated.customer.tickets.index': { uri: 'help/', methods: ['GET'], parameters: [] } } };
        const { route } = mountWith({ routes }, () => h('div'));
        expect(route('escalated.customer.tickets.index')).toBe('/help/');
    });

    it("points Inertia's client at Django's CSRF names unless told csrf: false", () => {
        mountWith({}, () => h('div'));
        expect(http.getClient().xsrfHeaderName).toBe('X-CSRFToken');

        http.setClient({});
        mountWith({ csrf: false }, () => h('div'));
        expect(http.getClient().xsrfHeaderName).toBe('X-XSRF-TOKEN');

        mountWith({ csrf: { cookieName: 'hostcsrf' } }, () => h('div'));
        expect(http.getClient().xsrfCookieName).toBe('hostcsrf');
        expect(http.getClient().xsrfHeaderName).toBe('X-CSRFToken');
    });

    it('sends the files of a form as attachments[], the keys Django reads as a list', async () => {
        mountWith({}, () => h('div'));
        expect(config.get('form.forceIndicesArrayFormatInFormData')).toBe(false);

        const { send } = XMLHttpRequest.prototype;
        const sent = new Promise((resolve) => {
            XMLHttpRequest.prototype.send = function (body) {
                resolve(body);
                this.onabort();
            };
        });
        // The router as createInertiaApp starts it, on a page of its own.
        router.init({
            initialPage: { component: 'Escalated/Customer/Show', props: {}, url: '/support/tickets/ESC-1/', version: null },
            resolveComponent: async () => ({}),
            swapComponent: async () => {},
        });
        try {
            router.post('/support/tickets/ESC-1/reply/', {
                body: 'see attached',
                attachments: [new File(['a'], 'a.txt'), new File(['b'], 'b.txt')],
            });
            const body = await sent;
            expect([...body.keys()]).toEqual(['body', 'attachments[]', 'attachments[]']);
            expect(body.getAll('attachments[]').map((file) => file.name)).toEqual(['a.txt', 'b.txt']);
        } finally {
            XMLHttpRequest.prototype.send = send;
        }
    });

    it('leaves window.Echo alone unless realtime is asked for (test/echo-setup.test.js)', () => {
        delete window.Echo;
        const { route } = mountWith({}, () => h('div'));
        expect(route('login')).toBe('/login/');
        expect(window.Echo).toBeUndefined();
    });

    it('fails loudly when the layout forgot {% escalated_head %}', () => {
        document.body.innerHTML = '';
        expect(() => setupEscalated(createApp({}), {})).toThrow(/escalated_head/);
    });
});
