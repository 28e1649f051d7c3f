/**
 * The channel objects `window.Echo` hands out: a private (or public) channel backed by one
 * subscription, a presence channel backed by `ticketPresence` + `ticketViewers`, and the inert
 * channel for names this server has no subscription for.
 */
import { deliveries } from './channels.js';
import { TICKET_PRESENCE, TICKET_VIEWERS, person } from './payloads.js';

/** Echo's `.listen('.reply.created')`: the dot means "no namespace"; we have none either way. */
export function eventName(event) {
    return String(event).replace(/^\./, '');
}

/** Errors that say "not yours": trying again cannot help. Anything else (a server fault, a
 * subscription the server ended) is tried again. */
const REFUSALS = new Set(['FORBIDDEN', 'UNAUTHENTICATED', 'NOT_FOUND']);
export const isRefusal = (errors) => errors.some((e) => REFUSALS.has(e?.extensions?.code) || e?.code === 4403);

const messageOf = (errors) => errors.map((e) => e?.message ?? e?.reason ?? String(e)).join('; ');

class BaseChannel {
    constructor(hub, name) {
        this.hub = hub;
        this.name = name;
        this.errorCallbacks = [];
        this.subscribedCallbacks = [];
        this.ready = false;
        this.failed = null;
    }

    subscribed(callback) {
        if (this.ready) callback();
        else this.subscribedCallbacks.push(callback);
        return this;
    }

    error(callback) {
        if (this.failed) callback(this.failed);
        else this.errorCallbacks.push(callback);
        return this;
    }

    markReady() {
        if (this.ready) return;
        this.ready = true;
        this.subscribedCallbacks.splice(0).forEach((cb) => cb());
    }

    fail(errors) {
        this.failed = { type: 'error', channel: this.name, message: messageOf(errors), errors };
        this.hub.warn(`Echo channel ${this.name}: ${this.failed.message}`);
        this.errorCallbacks.splice(0).forEach((cb) => cb(this.failed));
    }

    /** Client events (whispers) and notifications have no subscription here. */
    listenForWhisper() {
        return this;
    }

    stopListeningForWhisper() {
        return this;
    }

    notification() {
        return this;
    }

    stopListeningForNotification() {
        return this;
    }

    whisper() {
        return this;
    }
}

/** A private or public channel: one subscription, fanned out to listeners by event name. */
export class SubscriptionChannel extends BaseChannel {
    constructor(hub, name, spec) {
        super(hub, name);
        this.spec = spec;
        this.listeners = new Map();
        this.unsubscribe = null;
        this.start();
    }

    async start() {
        const me = await this.hub.whoami();
        if (this.left) return;
        if (this.spec.owner !== null && me?.id !== this.spec.owner) {
            this.fail([{ message: 'This channel belongs to another user.' }]);
            return;
        }
        this.markReady();
        this.subscribe(0);
    }

    subscribe(attempt) {
        const { query, variables } = this.spec.subscription;
        const retry = () => {
            if (this.left) return;
            // Resubscribed after a gap: what changed meanwhile is read again.
            this.retryTimer = setTimeout(() => {
                this.subscribe(attempt + 1);
                if (this.listening) this.hub.reload(this.props);
            }, this.hub.retryDelay(attempt));
        };
        this.unsubscribe = this.hub.socket().subscribe(query, variables, {
            onData: (data) => {
                attempt = 0;
                for (const [name, payload] of deliveries(this.spec.subscription, data)) {
                    for (const callback of [...(this.listeners.get(name) ?? [])]) callback(payload);
                }
            },
            onError: (errors) => {
                if (isRefusal(errors)) this.fail(errors);
                else {
                    this.hub.warn(`Echo channel ${this.name}: ${messageOf(errors)}; subscribing again`);
                    retry();
                }
            },
            // The server ended the subscription (it ends when access is lost, rechecked there).
            onComplete: retry,
        });
    }

    listen(event, callback) {
        const name = eventName(event);
        if (!this.listeners.has(name)) this.listeners.set(name, new Set());
        this.listeners.get(name).add(callback);
        return this;
    }

    stopListening(event, callback) {
        const name = eventName(event);
        if (callback) this.listeners.get(name)?.delete(callback);
        else this.listeners.delete(name);
        return this;
    }

    /** Whether anything still listens: only those channels' props are reloaded on reconnect. */
    get listening() {
        return [...this.listeners.values()].some((set) => set.size > 0);
    }

    leave() {
        this.left = true;
        clearTimeout(this.retryTimer);
        this.listeners.clear();
        this.unsubscribe?.();
        this.unsubscribe = null;
    }
}

/**
 * A presence channel on a ticket: says "viewing" (`ticketPresence`, repeated well within the
 * server's PRESENCE_TTL_SECONDS) and turns each `ticketViewers` list into Echo's here / joining /
 * leaving calls, with members `{id, name}`. `here` includes oneself, as in Echo; joining and
 * leaving never name oneself.
 */
export class PresenceChannel extends BaseChannel {
    constructor(hub, name, spec) {
        super(hub, name);
        this.ticketId = spec.ticketId;
        this.members = null;
        this.callbacks = { here: [], joining: [], leaving: [] };
        this.unsubscribe = null;
        this.timer = null;
        this.start();
    }

    announce(state) {
        const input = { ticketId: this.ticketId, state };
        return this.hub
            .http(TICKET_PRESENCE, { input })
            .then((data) => {
                const errors = data?.ticketPresence?.errors ?? [];
                if (errors.length) throw errors;
            });
    }

    async start() {
        const me = await this.hub.whoami();
        if (this.left) return;
        this.me = me;
        // Said before subscribing, so that the first list (`here`) includes oneself. A failure is
        // left to the subscription to report: it is refused for the same people, and a passing
        // problem (a busy database) is mended by the next heartbeat.
        await this.announce('VIEWING').catch(() => {});
        if (this.left) return;
        this.timer = setInterval(() => this.heartbeat(), this.hub.heartbeatMs);
        this.unsubscribe = this.hub.socket().subscribe(
            TICKET_VIEWERS,
            { ticketId: this.ticketId },
            { onData: (data) => this.update(data.ticketViewers), onError: (errors) => this.fail(errors) },
        );
    }

    heartbeat() {
        this.announce('VIEWING').catch(() => {
            // A dropped connection: the reconnect says it again.
        });
    }

    update(viewers) {
        const now = new Map();
        for (const viewer of viewers) {
            if (viewer.state === 'LEFT') continue;
            const member = person(viewer.user);
            now.set(member.id, member);
        }
        const before = this.members;
        this.members = now;
        if (before === null) {
            this.markReady();
            const list = [...now.values()];
            this.callbacks.here.forEach((cb) => cb(list));
            return;
        }
        for (const [id, member] of now) {
            if (!before.has(id) && id !== this.me?.id) this.callbacks.joining.forEach((cb) => cb(member));
        }
        for (const [id, member] of before) {
            if (!now.has(id) && id !== this.me?.id) this.callbacks.leaving.forEach((cb) => cb(member));
        }
    }

    here(callback) {
        this.callbacks.here.push(callback);
        if (this.members) callback([...this.members.values()]);
        return this;
    }

    joining(callback) {
        this.callbacks.joining.push(callback);
        return this;
    }

    leaving(callback) {
        this.callbacks.leaving.push(callback);
        return this;
    }

    /** Presence channels carry no broadcast events here, only membership. */
    listen() {
        return this;
    }

    stopListening() {
        return this;
    }

    get listening() {
        return false;
    }

    leave() {
        const wasAnnounced = this.timer !== null;
        this.left = true;
        clearInterval(this.timer);
        this.timer = null;
        this.unsubscribe?.();
        this.unsubscribe = null;
        if (wasAnnounced) this.announce('LEFT').catch(() => {});
    }
}

/** A channel this server has no subscription for: every call is accepted and does nothing. */
export class InertChannel extends BaseChannel {
    listen() {
        return this;
    }

    stopListening() {
        return this;
    }

    here() {
        return this;
    }

    joining() {
        return this;
    }

    leaving() {
        return this;
    }

    get listening() {
        return false;
    }

    leave() {}
}
