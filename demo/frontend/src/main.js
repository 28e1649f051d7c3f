import './app.css';

import { resolveEscalatedPage, setupEscalated } from '@escalated-django/frontend-adapter';
import { createInertiaApp } from '@inertiajs/vue3';
import { createApp, h } from 'vue';

createInertiaApp({
    resolve: resolveEscalatedPage(
        import.meta.glob('../node_modules/@escalated-dev/escalated/src/pages/**/*.vue'),
    ),
    setup({ el, App, props, plugin }) {
        const app = createApp({ render: () => h(App, props) }).use(plugin);
        setupEscalated(app, { realtime: true });
        app.mount(el);
    },
});
