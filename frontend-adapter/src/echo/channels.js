/**
 * The one table of which Echo channel is which subscription, and which event name each of our
 * event kinds arrives as (contract §4 lists what the pages listen for).
 */
import {
    MY_ASSIGNMENTS,
    QUEUE_EVENTS,
    TICKET_EVENTS,
    globalId,
    ticketEventPayload,
} from './payloads.js';

/** ticketEvents kinds → the event names the ticket pages listen for. */
const TICKET_EVENT_NAMES = {
    REPLY_ADDED: 'reply.created',
    NOTE_ADDED: 'reply.created',
    STATUS_CHANGED: 'ticket.status_changed',
    ASSIGNED: 'ticket.assigned',
};

/** The event name of a ticketEvents kind: anything not named above is an update. */
export function ticketEventNames(event) {
    const names = [TICKET_EVENT_NAMES[event.kind] ?? 'ticket.updated'];
    // Escalating is a move to the ESCALATED status (by a rule or a person).
    if (event.kind === 'STATUS_CHANGED' && event.ticket?.status === 'ESCALATED') names.push('ticket.escalated');
    return names;
}

/** queueEvents: a new ticket is `ticket.created`; any other change in the queue an update. */
function queueEventNames(event) {
    return [event.kind === 'CREATED' && event.change === 'ENTERED' ? 'ticket.created' : 'ticket.updated'];
}

/** myAssignments: given to me is `ticket.assigned`, taken from me `ticket.unassigned`. */
function assignmentEventNames(event) {
    return [event.change === 'ASSIGNED' ? 'ticket.assigned' : 'ticket.unassigned'];
}

const KINDS = [
    {
        pattern: /^escalated\.tickets\.(\d+)$/,
        presence: true,
        subscription: (id) => ({
            query: TICKET_EVENTS,
            variables: { ticketId: globalId('Ticket', id) },
            field: 'ticketEvents',
            names: ticketEventNames,
        }),
        // What a page showing this channel reloads after a reconnect.
        props: ['ticket'],
    },
    {
        pattern: /^escalated\.tickets$/,
        subscription: () => ({ query: QUEUE_EVENTS, variables: {}, field: 'queueEvents', names: queueEventNames }),
        props: ['tickets'],
    },
    {
        pattern: /^escalated\.agents\.(\d+)$/,
        // Only one's own: the subscription always follows the socket's user.
        owner: (id) => Number(id),
        subscription: () => ({
            query: MY_ASSIGNMENTS,
            variables: {},
            field: 'myAssignments',
            names: assignmentEventNames,
        }),
        props: ['tickets'],
    },
];

/**
 * Split an Echo channel name into its type and bare name: `private-x` and `presence-x` are how
 * Echo spells a private or presence channel on the wire; anything else is public.
 */
export function splitChannelName(fullName) {
    for (const type of ['private', 'presence']) {
        if (fullName.startsWith(`${type}-`)) return { type, name: fullName.slice(type.length + 1) };
    }
    return { type: 'public', name: fullName };
}

/**
 * What backs channel `name` of `type`: `{ subscription, props, owner?, ticketId? }`, or null when
 * this server has nothing for it (chat, for example).
 */
export function resolveChannel(type, name) {
    for (const kind of KINDS) {
        const match = kind.pattern.exec(name);
        if (!match) continue;
        if (type === 'presence') {
            return kind.presence ? { presence: true, ticketId: globalId('Ticket', match[1]), props: [] } : null;
        }
        return {
            subscription: kind.subscription(match[1]),
            props: kind.props,
            owner: kind.owner?.(match[1]) ?? null,
        };
    }
    return null;
}

/** The [eventName, payload] pairs one subscription result is delivered as. */
export function deliveries(subscription, data) {
    const event = data[subscription.field];
    if (!event) return [];
    const payload = ticketEventPayload(event);
    return subscription.names(event).map((name) => [name, payload]);
}
