/** window.Echo over Escalated's GraphQL subscriptions (graphql-transport-ws). */

/** A member of a ticket's presence channel. */
export interface PresenceMember {
    id: number;
    name: string;
}

/** What a listener receives for every ticket event, on any channel. */
export interface TicketEventPayload {
    /** Our event kind, lowercase: `reply_added`, `note_added`, `status_changed`, `assigned`, … */
    kind: string;
    ticket_id: number;
    /** null when the change took the ticket out of the listener's sight. */
    reference: string | null;
    /** The ticket fields the change touched, snake_case. */
    changed_fields: string[];
    actor: PresenceMember | null;
    occurred_at: string;
    ticket: {
        id: number;
        reference: string;
        subject: string;
        status: string;
        priority: string;
        assignee: PresenceMember | null;
    } | null;
    /** On escalated.tickets (`entered` / `changed` / `left`) and escalated.agents.{id} (`assigned` / `unassigned`). */
    change?: string;
    /** On `reply.created`: the reply (an internal note only ever reaches staff). */
    reply_id?: number;
    body?: string;
    is_internal_note?: boolean;
    author?: PresenceMember | null;
    author_id?: number | null;
    author_name?: string | null;
    created_at?: string;
}

export interface ChannelError {
    type: 'error';
    channel: string;
    message: string;
    errors: unknown[];
}

export interface EchoChannel {
    readonly name: string;
    /** `'.reply.created'` or `'reply.created'`. */
    listen(event: string, callback: (payload: TicketEventPayload) => void): this;
    /** Without a callback: every listener of that event. */
    stopListening(event: string, callback?: (payload: TicketEventPayload) => void): this;
    subscribed(callback: () => void): this;
    error(callback: (error: ChannelError) => void): this;
    /** Accepted and inert: no client events or notifications here. */
    listenForWhisper(event: string, callback: (data: unknown) => void): this;
    stopListeningForWhisper(event: string, callback?: (data: unknown) => void): this;
    notification(callback: (data: unknown) => void): this;
    stopListeningForNotification(callback?: (data: unknown) => void): this;
    whisper(event: string, data: unknown): this;
}

export interface EchoPresenceChannel extends EchoChannel {
    /** Everyone on the ticket now, oneself included. */
    here(callback: (members: PresenceMember[]) => void): this;
    /** Someone else arrived. */
    joining(callback: (member: PresenceMember) => void): this;
    /** Someone else left (or their presence lapsed). */
    leaving(callback: (member: PresenceMember) => void): this;
}

export interface EchoOptions {
    /** ROUTE_PREFIX; the socket is `/<prefix>/graphql/` on the page's host. Default `support`. */
    prefix?: string;
    /** The socket's full address instead. */
    url?: string;
    /** The GraphQL endpoint's HTTP address for the presence mutation (default `/<prefix>/graphql/`). */
    httpUrl?: string;
    /** The `connection_init` payload (the handshake's session cookie is the default credential). */
    connectionParams?: Record<string, unknown> | (() => Record<string, unknown> | Promise<Record<string, unknown>>);
    /** A WebSocket constructor (default: the global one). */
    webSocketImpl?: unknown;
    /** A fetch() for the presence mutation (default: the global one). */
    fetch?: typeof fetch;
    /** Django's CSRF cookie and header names (default csrftoken / X-CSRFToken). */
    csrf?: { cookieName?: string; headerName?: string };
    /** Reconnect delays: doubling from initialMs (500) up to maxMs (10000), with spread. */
    backoff?: { initialMs?: number; maxMs?: number };
    /** Called once after each reconnect with the props the listened channels stand for. */
    reload?: (props: string[]) => void;
    /** How often a presence channel says "viewing" (default 10000 ms). */
    presenceHeartbeatMs?: number;
    warn?: (message: string) => void;
}

/** An object with Laravel Echo's interface; channels are our GraphQL subscriptions. */
export interface Echo {
    readonly options: EchoOptions;
    channel(name: string): EchoChannel;
    private(name: string): EchoChannel;
    encryptedPrivate(name: string): EchoChannel;
    join(name: string): EchoPresenceChannel;
    listen(channel: string, event: string, callback: (payload: TicketEventPayload) => void): EchoChannel;
    /** Leave `name` as a public, private and presence channel. */
    leave(name: string): void;
    /** Leave exactly this channel (`private-…`, `presence-…` or a public name). */
    leaveChannel(fullName: string): void;
    leaveAllChannels(): void;
    connect(): void;
    disconnect(): void;
    /** An id for the current connection; undefined while not connected. */
    socketId(): string | undefined;
}

export function createEcho(options?: EchoOptions): Echo;

export interface LivePage {
    channel: string;
    events: string[];
    only: string[];
}

/** Pages that never listen themselves, and what the adapter listens to for them. */
export const LIVE_PAGES: Record<string, (props: Record<string, any>) => LivePage | null>;

export function followLivePages(
    router: { on(event: 'navigate', callback: (event: any) => void): () => void; reload(options: object): void },
    echo: Echo,
    initialPage?: { component: string; props: Record<string, any> } | null,
    pages?: typeof LIVE_PAGES,
): () => void;
