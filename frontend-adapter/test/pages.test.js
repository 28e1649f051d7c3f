import { describe, expect, it } from 'vitest';

import { resolveEscalatedPage } from '../src/pages.js';

const base = '../node_modules/@escalated-dev/escalated/src/pages';

describe('resolveEscalatedPage', () => {
    it('maps Escalated/* names onto the package files, lazily', async () => {
        const loaded = [];
        const pages = {
            [`${base}/Agent/TicketShow.vue`]: async () => (loaded.push('show'), { default: 'TicketShow' }),
            [`${base}/Admin/Reports.vue`]: async () => ({ default: 'Reports' }),
            [`${base}/Admin/Reports/Dashboard.vue`]: async () => ({ default: 'ReportsDashboard' }),
        };
        const resolve = resolveEscalatedPage(pages);
        expect(loaded).toEqual([]);
        expect(await resolve('Escalated/Agent/TicketShow')).toBe('TicketShow');
        expect(await resolve('Escalated/Admin/Reports')).toBe('Reports');
        expect(await resolve('Escalated/Admin/Reports/Dashboard')).toBe('ReportsDashboard');
        expect(loaded).toEqual(['show']);
    });

    it('accepts an eager glob (modules instead of loaders)', async () => {
        const resolve = resolveEscalatedPage({ [`${base}/Customer/Index.vue`]: { default: 'Index' } });
        expect(await resolve('Escalated/Customer/Index')).toBe('Index');
    });

    it('sends other names to the host pages, preferring the exact file', async () => {
        const resolve = resolveEscalatedPage(
            {},
            {
                './Pages/Agent/Dashboard.vue': { default: 'nested' },
                './Pages/Dashboard.vue': { default: 'top' },
            },
        );
        expect(await resolve('Dashboard')).toBe('top');
        expect(await resolve('Agent/Dashboard')).toBe('nested');
    });

    it('names the missing file instead of rendering nothing', async () => {
        const resolve = resolveEscalatedPage({ [`${base}/Customer/Index.vue`]: {} });
        await expect(resolve('Escalated/Agent/Tickets/Index')).rejects.toThrow(
            "no page component for 'Escalated/Agent/Tickets/Index' (looked for a file ending in /src/pages/Agent/Tickets/Index.vue)",
        );
        await expect(resolve('Customer/Index')).rejects.toThrow(/no page component for 'Customer\/Index'/);
    });

    it('resolves every page of the installed package', async () => {
        const pages = import.meta.glob('../node_modules/@escalated-dev/escalated/src/pages/**/*.vue');
        const names = Object.keys(pages).map((key) =>
            `Escalated/${key.split('/src/pages/')[1].replace(/\.vue$/, '')}`,
        );
        expect(names).toContain('Escalated/Agent/TicketIndex');
        expect(names.length).toBeGreaterThan(50);
        const resolve = resolveEscalatedPage(pages);
        const [first] = names.filter((name) => name.endsWith('/Customer/Show'));
        const component = await resolve(first);
        expect(typeof component.setup === 'function' || typeof component.render === 'function').toBe(true);
    }, 60_000); // the first .vue transform is slow on a busy machine

    it("serves the adapter's own pages under EscalatedDjango/", async () => {
        const resolve = resolveEscalatedPage({});
        const component = await resolve('EscalatedDjango/Unavailable');
        expect(Object.keys(component.props)).toEqual(['feature', 'title', 'message']);
        await expect(resolve('EscalatedDjango/Nope')).rejects.toThrow("the adapter has no page 'EscalatedDjango/Nope'");
    });
});
