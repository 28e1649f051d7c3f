/**
 * What Echo listeners receive: the GraphQL event reshaped into the snake_case, numeric-id form the
 * pages' props use (`ticket.id`, `auth.user.id`), plus the event kind and changed fields.
 */

/** The opaque GraphQL id of `type` with primary key `pk` (strawberry's relay ids). */
export function globalId(type, pk) {
    return btoa(`${type}:${pk}`);
}

/** The primary key inside a relay id, as a number when it is one; anything else unchanged. */
export function primaryKey(id) {
    if (typeof id !== 'string') return id;
    let decoded;
    try {
        decoded = atob(id);
    } catch {
        return id;
    }
    const at = decoded.indexOf(':');
    if (at < 0) return id;
    const key = decoded.slice(at + 1);
    return /^\d+$/.test(key) ? Number(key) : key;
}

const snake = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function person(user) {
    return user ? { id: primaryKey(user.id), name: user.name } : null;
}

/** The fields every ticket event carries, whatever channel it came on. */
export function ticketEventPayload(event) {
    const ticket = event.ticket;
    const payload = {
        kind: event.kind.toLowerCase(),
        ticket_id: primaryKey(event.ticketId),
        reference: ticket?.reference ?? null,
        changed_fields: (event.changedFields ?? []).map(snake),
        actor: person(event.actor),
        occurred_at: event.occurredAt,
        ticket: ticket
            ? {
                  id: primaryKey(ticket.id),
                  reference: ticket.reference,
                  subject: ticket.subject,
                  status: ticket.status.toLowerCase(),
                  priority: ticket.priority.toLowerCase(),
                  assignee: person(ticket.assignee),
              }
            : null,
    };
    if (event.change) payload.change = event.change.toLowerCase();
    const reply = event.reply;
    if (reply) {
        // The fields a Laravel `reply.created` broadcast carries, for hosts' own listeners.
        const author = person(reply.author);
        Object.assign(payload, {
            reply_id: primaryKey(reply.id),
            body: reply.body,
            is_internal_note: reply.isInternalNote,
            author,
            author_id: author?.id ?? null,
            author_name: author?.name ?? null,
            created_at: reply.createdAt,
        });
    }
    return payload;
}

const TICKET_FIELDS = 'id reference subject status priority assignee { id name }';
const NEWS_FIELDS = `kind ticketId changedFields occurredAt actor { id name } ticket { ${TICKET_FIELDS} }`;

export const TICKET_EVENTS = `subscription EchoTicketEvents($ticketId: ID!) {
  ticketEvents(ticketId: $ticketId) {
    ${NEWS_FIELDS}
    reply { id body isInternalNote createdAt author { id name } }
  }
}`;

export const QUEUE_EVENTS = `subscription EchoQueueEvents {
  queueEvents { ${NEWS_FIELDS} change }
}`;

export const MY_ASSIGNMENTS = `subscription EchoMyAssignments {
  myAssignments { ${NEWS_FIELDS} change }
}`;

export const TICKET_VIEWERS = `subscription EchoTicketViewers($ticketId: ID!) {
  ticketViewers(ticketId: $ticketId) { state user { id name } }
}`;

export const TICKET_PRESENCE = `mutation EchoTicketPresence($input: TicketPresenceInput!) {
  ticketPresence(input: $input) { errors { message } }
}`;

export const VIEWER = `query EchoViewer { viewer { user { id name } } }`;
