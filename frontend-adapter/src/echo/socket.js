import { createClient } from 'graphql-ws';

/** Close codes after which trying again cannot help: the server refused who we are. */
const REFUSED = new Set([4401, 4403]);

/**
 * How long to wait before reconnect attempt `attempt` (0-based): doubling from `initialMs`, capped
 * at `maxMs`, with up to a quarter of random spread so that a restarted server is not met by every
 * page at the same instant.
 */
export function backoffDelay(attempt, { initialMs = 500, maxMs = 10000, random = Math.random } = {}) {
    const base = Math.min(maxMs, initialMs * 2 ** attempt);
    return Math.round(base * (0.75 + random() * 0.25));
}

/**
 * The websocket address of the GraphQL endpoint, which lives at the same path as the HTTP one
 * (`/<prefix>/graphql/`), on the page's own host so that the session cookie goes with the handshake.
 */
export function graphqlSocketUrl(prefix = 'support', location = globalThis.location) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const path = String(prefix).replace(/^\/+|\/+$/g, '');
    return `${scheme}//${location.host}/${path ? `${path}/` : ''}graphql/`;
}

/**
 * One graphql-transport-ws connection for the page, multiplexing every operation (the maintained
 * `graphql-ws` client speaks the protocol: acks, pings, ids, resubscription after a reconnect).
 *
 * It connects on the first operation, reconnects with {@link backoffDelay} after a dropped
 * connection (never after a refusal), re-sends every live subscription, and then calls
 * `onReconnected()` once per reconnect.
 *
 * @param {object} options
 * @param {string|(() => string)} options.url
 * @param {object|(() => object)} [options.connectionParams] the `connection_init` payload
 * @param {Function} [options.webSocketImpl] a WebSocket constructor (default: the global one)
 * @param {{initialMs?: number, maxMs?: number}} [options.backoff]
 * @param {() => void} [options.onReconnected]
 * @param {(id: string|null) => void} [options.onConnectionChange] a new connection id, or null
 */
export function createSocket(options) {
    let connectionCount = 0;
    const client = createClient({
        url: options.url,
        connectionParams: options.connectionParams,
        webSocketImpl: options.webSocketImpl,
        lazy: true,
        // A page flips between channels on navigation: keep the socket through the gap.
        lazyCloseTimeout: 1000,
        keepAlive: 15000,
        retryAttempts: Number.POSITIVE_INFINITY,
        retryWait: (attempt) => new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, options.backoff))),
        shouldRetry: (event) => !(event && REFUSED.has(event.code)),
        on: {
            connected: (_socket, _payload, wasRetry) => {
                connectionCount += 1;
                options.onConnectionChange?.(`escalated.${connectionCount}.${Math.random().toString(36).slice(2, 10)}`);
                if (wasRetry) options.onReconnected?.();
            },
            closed: () => options.onConnectionChange?.(null),
        },
    });

    return {
        /**
         * Run a subscription; `onData(data)` per result, `onError(errors)` once if it fails.
         * @returns {() => void} unsubscribe
         */
        subscribe(query, variables, { onData, onError, onComplete } = {}) {
            return client.subscribe(
                { query, variables },
                {
                    next: (result) => {
                        if (result.errors?.length) onError?.(result.errors);
                        else if (result.data) onData?.(result.data);
                    },
                    error: (error) => onError?.(Array.isArray(error) ? error : [error]),
                    complete: () => onComplete?.(),
                },
            );
        },

        /** Run a query or mutation over the same socket; resolves to its data or rejects. */
        execute(query, variables) {
            return new Promise((resolve, reject) => {
                let data;
                client.subscribe(
                    { query, variables },
                    {
                        next: (result) => {
                            if (result.errors?.length) reject(result.errors);
                            else data = result.data;
                        },
                        error: (error) => reject(Array.isArray(error) ? error : [error]),
                        complete: () => resolve(data),
                    },
                );
            });
        },

        /** Close the socket and stop reconnecting. */
        dispose() {
            client.dispose();
        },
    };
}
