/**
 * Live updates for the pages that never listen themselves. The package's Agent/TicketShow and
 * Agent/TicketIndex subscribe through `window.Echo`; the customer's ticket page does not, so an
 * agent's answer would only show after a reload. For each page named here the adapter listens on
 * the page's behalf, through the same Echo object, and reloads the page's props on each event.
 */

const TICKET_EVENTS = ['.reply.created', '.ticket.updated', '.ticket.status_changed', '.ticket.assigned'];

/** Page component → what to listen to for its props, or null. */
export const LIVE_PAGES = {
    'Escalated/Customer/Show': (props) =>
        props.ticket?.id ? { channel: `escalated.tickets.${props.ticket.id}`, events: TICKET_EVENTS, only: ['ticket'] } : null,
};

/**
 * Follow Inertia's visits: on each page, leave what the previous page needed, and listen to what
 * this one needs.
 *
 * @param {{on: Function, reload: Function}} router Inertia's router
 * @param {object} echo the `createEcho()` object
 * @param {object} [initialPage] the page already shown (its navigate event may have fired already)
 * @returns {() => void} stop following
 */
export function followLivePages(router, echo, initialPage = null, pages = LIVE_PAGES) {
    let current = null; // { channel, events, only, key }
    const reload = (only) => () => router.reload({ only, preserveScroll: true });

    function show(page) {
        const wanted = pages[page?.component]?.(page.props ?? {}) ?? null;
        const key = wanted && `${wanted.channel}|${wanted.only.join(',')}`;
        if (current?.key === key) return;
        if (current) echo.leave(current.channel);
        current = null;
        if (!wanted) return;
        const channel = echo.private(wanted.channel);
        const listener = reload(wanted.only);
        wanted.events.forEach((event) => channel.listen(event, listener));
        current = { ...wanted, key };
    }

    if (initialPage) show(initialPage);
    return router.on('navigate', (event) => show(event.detail.page));
}
