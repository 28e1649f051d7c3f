/**
 * `createEcho()`: an object with Laravel Echo's interface whose channels are GraphQL subscriptions
 * on this server, over one graphql-transport-ws socket per page (see channels.js for the mapping).
 */
import { resolveChannel, splitChannelName } from './channels.js';
import { InertChannel, PresenceChannel, SubscriptionChannel } from './channels-live.js';
import { VIEWER, person } from './payloads.js';
import { createHttpExecutor, graphqlHttpUrl } from './http.js';
import { backoffDelay, createSocket, graphqlSocketUrl } from './socket.js';

/**
 * @param {object} [options]
 * @param {string} [options.prefix] ROUTE_PREFIX (default `support`); the socket is `/<prefix>/graphql/`
 * @param {string} [options.url] the socket's full address instead
 * @param {string} [options.httpUrl] the GraphQL endpoint's HTTP address, for the presence
 *     mutation (default `/<prefix>/graphql/`); `options.fetch` and `options.csrf` (Django's CSRF
 *     cookie and header names) go with it
 * @param {object|(() => object)} [options.connectionParams] the `connection_init` payload (the
 *     session cookie of the handshake is the default credential; a guest page sends `{guestToken}`)
 * @param {Function} [options.webSocketImpl] a WebSocket constructor (default: the global one)
 * @param {{initialMs?: number, maxMs?: number}} [options.backoff] reconnect delays
 * @param {(props: string[]) => void} [options.reload] called once after each reconnect with the
 *     props the listened-to channels stand for (setupEscalated passes Inertia's partial reload)
 * @param {number} [options.presenceHeartbeatMs] how often a presence channel says "viewing"
 * @param {(message: string) => void} [options.warn]
 */
export function createEcho(options = {}) {
    const channels = new Map();
    const warned = new Set();
    let socket = null;
    let whoami = null;
    let connectionId = null;

    const hub = {
        heartbeatMs: options.presenceHeartbeatMs ?? 10000,
        retryDelay: (attempt) => backoffDelay(attempt, options.backoff),
        reload: (props) => props.length && options.reload?.(props),
        warn: options.warn ?? ((message) => console.warn(message)),
        socket() {
            if (!socket) {
                socket = createSocket({
                    url: options.url ?? (() => graphqlSocketUrl(options.prefix ?? 'support')),
                    connectionParams: options.connectionParams,
                    webSocketImpl: options.webSocketImpl,
                    backoff: options.backoff,
                    onConnectionChange: (id) => {
                        connectionId = id;
                    },
                    onReconnected,
                });
            }
            return socket;
        },
        http: createHttpExecutor({
            url: options.httpUrl ?? graphqlHttpUrl(options.prefix ?? 'support'),
            fetch: options.fetch,
            csrf: options.csrf,
        }),
        /** The socket's user `{id, name}` (null if none), asked once per page. */
        whoami() {
            whoami ??= hub
                .socket()
                .execute(VIEWER, {})
                .then((data) => person(data?.viewer?.user))
                .catch(() => null);
            return whoami;
        },
    };

    function onReconnected() {
        const props = new Set();
        for (const channel of channels.values()) {
            if (channel.listening) channel.props.forEach((prop) => props.add(prop));
            if (channel instanceof PresenceChannel) channel.heartbeat();
        }
        if (props.size) options.reload?.([...props]);
    }

    function open(fullName) {
        const existing = channels.get(fullName);
        if (existing) return existing;
        const { type, name } = splitChannelName(fullName);
        const spec = resolveChannel(type, name);
        let channel;
        if (!spec) {
            if (!warned.has(fullName)) {
                warned.add(fullName);
                hub.warn(`Echo: no subscription backs channel "${fullName}" on this server; it stays silent.`);
            }
            channel = new InertChannel(hub, fullName);
        } else if (spec.presence) {
            channel = new PresenceChannel(hub, fullName, spec);
        } else {
            channel = new SubscriptionChannel(hub, fullName, spec);
        }
        channel.props = spec?.props ?? [];
        channels.set(fullName, channel);
        return channel;
    }

    function leaveChannel(fullName) {
        const channel = channels.get(fullName);
        if (!channel) return;
        channels.delete(fullName);
        channel.leave();
    }

    return {
        options,
        /** A public channel (here: the same subscription as the private one; the server decides). */
        channel: (name) => open(name),
        private: (name) => open(`private-${name}`),
        /** Encrypted channels need Pusher's keys: nothing backs them here. */
        encryptedPrivate: (name) => open(`private-encrypted-${name}`),
        join: (name) => open(`presence-${name}`),
        listen(name, event, callback) {
            return open(name).listen(event, callback);
        },
        /** Leave `name` whatever its type: public, private and presence. */
        leave(name) {
            const { name: bare } = splitChannelName(name);
            for (const fullName of [bare, `private-${bare}`, `presence-${bare}`]) leaveChannel(fullName);
        },
        leaveChannel,
        leaveAllChannels() {
            [...channels.keys()].forEach(leaveChannel);
        },
        /** Connect now rather than on the first channel. */
        connect() {
            hub.whoami();
        },
        /** Leave every channel and close the socket; a later channel opens a new one. */
        disconnect() {
            [...channels.keys()].forEach(leaveChannel);
            socket?.dispose();
            socket = null;
            whoami = null;
            connectionId = null;
        },
        /** An id for the current connection (undefined while not connected). */
        socketId: () => connectionId ?? undefined,
    };
}
