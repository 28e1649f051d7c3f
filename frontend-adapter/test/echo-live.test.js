// @vitest-environment node
/**
 * window.Echo's facade against the real server: the project's ASGI app under uvicorn, on its own
 * SQLite file (test/live/server.js). Events are caused by real mutations over HTTP.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { createEcho } from '../src/echo/echo.js';
import { eventually, gid, startServer } from './live/server.js';

// Each test waits on a real server; the first also warms it up.
vi.setConfig({ testTimeout: 30000 });

let server;
const echoes = [];

beforeAll(async () => {
    server = await startServer();
}, 120000);

afterAll(async () => {
    await server?.stop();
});

afterEach(() => {
    echoes.splice(0).forEach((echo) => echo.disconnect());
});

function echoAs(person, extra = {}) {
    const warnings = [];
    const echo = createEcho({
        url: server.url,
        webSocketImpl: server.socketFor(person),
        fetch: server.fetchFor(person),
        backoff: { initialMs: 100, maxMs: 500 },
        presenceHeartbeatMs: 1000,
        warn: (message) => warnings.push(message),
        ...extra,
    });
    echo.warnings = warnings;
    echoes.push(echo);
    return echo;
}

const REPLY = `mutation ($input: TicketReplyInput!) { ticketReply(input: $input) { errors { message } } }`;
const NOTE = `mutation ($input: TicketNoteAddInput!) { ticketNoteAdd(input: $input) { errors { message } } }`;
const STATUS = `mutation ($input: TicketStatusChangeInput!) { ticketStatusChange(input: $input) { errors { message } } }`;
const ASSIGN = `mutation ($input: TicketAssignInput!) { ticketAssign(input: $input) { errors { message } } }`;
const CREATE = `mutation ($input: TicketCreateInput!) { ticketCreate(input: $input) { ticket { id reference } errors { message } } }`;

const reply = (person, body) =>
    server.graphql(person, REPLY, { input: { ticketId: gid('Ticket', server.ticket), body } });
const note = (person, body) =>
    server.graphql(person, NOTE, { input: { ticketId: gid('Ticket', server.ticket), body } });

describe('private ticket channel → ticketEvents', () => {
    it('delivers a reply as .reply.created with the ticket id, reference, changed fields and actor', async () => {
        const echo = echoAs('agent');
        const got = [];
        const channel = echo.private(`escalated.tickets.${server.ticket}`).listen('.reply.created', (p) => got.push(p));
        await new Promise((res) => channel.subscribed(res));
        await retryUntil(() => got.length, () => reply('customer', '<p>Any news?</p>'));
        const payload = got.at(-1);
        expect(payload.ticket_id).toBe(server.ticket);
        expect(payload.reference).toBe(server.reference);
        expect(payload.kind).toBe('reply_added');
        expect(payload.actor).toEqual({ id: server.users.customer, name: expect.any(String) });
        expect(payload.body).toContain('Any news?');
        expect(payload.is_internal_note).toBe(false);
        expect(Array.isArray(payload.changed_fields)).toBe(true);
    });

    it('maps status changes to .ticket.status_changed, and stopListening stops only that listener', async () => {
        const echo = echoAs('agent');
        const status = [];
        const replies = [];
        const kept = (p) => status.push(p);
        const dropped = (p) => replies.push(p);
        const channel = echo.private(`escalated.tickets.${server.ticket}`);
        channel.listen('.ticket.status_changed', kept).listen('.reply.created', dropped);
        await new Promise((res) => channel.subscribed(res));
        await retryUntil(
            () => status.length,
            () =>
                server.graphql('agent', STATUS, {
                    input: { ticketId: gid('Ticket', server.ticket), status: status.length % 2 ? 'OPEN' : 'IN_PROGRESS' },
                }),
        );
        expect(status.at(-1).changed_fields).toContain('status');
        channel.stopListening('.reply.created', dropped);
        const before = status.length;
        await server.graphql('agent', STATUS, { input: { ticketId: gid('Ticket', server.ticket), status: 'WAITING_ON_CUSTOMER' } });
        await reply('agent', '<p>After stopListening</p>');
        await eventually(() => status.length > before, 10000, 'the second status change');
        // The reply event came after the status one on the same socket: had the listener still
        // been there, it would have run by now.
        await delay(300);
        expect(replies.some((p) => p.body.includes('After stopListening'))).toBe(false);
    });

    it('leave() ends the subscription: no more events reach the old listeners', async () => {
        const echo = echoAs('agent');
        const got = [];
        const channel = echo.private(`escalated.tickets.${server.ticket}`).listen('.reply.created', (p) => got.push(p));
        await new Promise((res) => channel.subscribed(res));
        await retryUntil(() => got.length, () => reply('customer', '<p>Before leave</p>'));
        echo.leave(`escalated.tickets.${server.ticket}`);
        // A second listener on a fresh channel proves the event below was sent.
        const watcher = echoAs('admin');
        const seen = [];
        const again = watcher.private(`escalated.tickets.${server.ticket}`).listen('.reply.created', (p) => seen.push(p));
        await new Promise((res) => again.subscribed(res));
        await retryUntil(() => seen.some((p) => p.body.includes('After leave')), () => reply('customer', '<p>After leave</p>'));
        await delay(300);
        expect(got.some((p) => p.body.includes('After leave'))).toBe(false);
    });

    it('multiplexes every channel of a page over one websocket', async () => {
        const opened = [];
        const Base = server.socketFor('agent');
        const Counting = class extends Base {
            constructor(...args) {
                super(...args);
                opened.push(this);
            }
        };
        const echo = echoAs('agent', { webSocketImpl: Counting });
        const ticket = [];
        const queue = [];
        echo.private(`escalated.tickets.${server.ticket}`).listen('.reply.created', (p) => ticket.push(p));
        echo.private('escalated.tickets').listen('.ticket.created', (p) => queue.push(p));
        echo.join(`escalated.tickets.${server.ticket}`).here(() => {});
        await retryUntil(() => ticket.length, () => reply('customer', '<p>multiplexed</p>'));
        await retryUntil(
            () => queue.length,
            () => server.graphql('customer', CREATE, { input: { subject: 'Multiplexed', description: 'x', departmentId: gid('Department', server.billing_department) } }),
        );
        expect(opened).toHaveLength(1);
        expect(echo.socketId()).toMatch(/^escalated\./);
    });
});

describe('queue and agent channels', () => {
    it('escalated.tickets → queueEvents: a new ticket arrives as .ticket.created', async () => {
        const echo = echoAs('agent');
        const got = [];
        const channel = echo.private('escalated.tickets').listen('.ticket.created', (p) => got.push(p));
        await new Promise((res) => channel.subscribed(res));
        let reference;
        await retryUntil(
            () => reference && got.some((p) => p.reference === reference),
            async () => {
                const data = await server.graphql('customer', CREATE, {
                    input: { subject: 'A new one', description: 'Hello', departmentId: gid('Department', server.billing_department) },
                });
                reference = data.ticketCreate.ticket.reference;
            },
        );
        const payload = got.find((p) => p.reference === reference);
        expect(payload.kind).toBe('created');
        expect(payload.change).toBe('entered');
        expect(payload.ticket.subject).toBe('A new one');
    });

    it('escalated.agents.{me} → myAssignments as .ticket.assigned; another agent’s channel is refused', async () => {
        const echo = echoAs('agent');
        const mine = [];
        const channel = echo.private(`escalated.agents.${server.users.agent}`).listen('.ticket.assigned', (p) => mine.push(p));
        await new Promise((res) => channel.subscribed(res));
        await retryUntil(
            () => mine.length,
            async () => {
                await server.graphql('admin', ASSIGN, { input: { ticketId: gid('Ticket', server.ticket), assigneeId: null } });
                await server.graphql('admin', ASSIGN, {
                    input: { ticketId: gid('Ticket', server.ticket), assigneeId: gid('User', server.users.agent) },
                });
            },
        );
        expect(mine.at(-1).ticket_id).toBe(server.ticket);
        expect(mine.at(-1).ticket.assignee.id).toBe(server.users.agent);

        const errors = [];
        echo.private(`escalated.agents.${server.users.admin}`).error((e) => errors.push(e));
        await eventually(() => errors.length, 5000, 'the refusal');
        expect(errors[0].message).toMatch(/another user/);
    });
});

describe('presence channel → ticketPresence + ticketViewers', () => {
    it('here lists both agents; joining and leaving follow the other', async () => {
        const name = `escalated.tickets.${server.ticket}`;
        const alan = echoAs('agent');
        const here = [];
        const joined = [];
        const left = [];
        alan.join(name)
            .here((members) => here.push(members))
            .joining((member) => joined.push(member))
            .leaving((member) => left.push(member));
        await eventually(() => here.length, 20000, 'here()');
        expect(here[0]).toContainEqual({ id: server.users.agent, name: expect.any(String) });

        const ada = echoAs('admin');
        const adaHere = [];
        ada.join(name).here((members) => adaHere.push(members));
        await eventually(() => adaHere.length, 20000, "the admin's here()");
        expect(adaHere[0].map((m) => m.id).sort()).toEqual([server.users.agent, server.users.admin].sort());
        await eventually(() => joined.some((m) => m.id === server.users.admin), 10000, 'joining');
        expect(joined.every((m) => m.id !== server.users.agent)).toBe(true);

        ada.leave(name);
        await eventually(() => left.some((m) => m.id === server.users.admin), 10000, 'leaving');
    });

    it('a customer cannot join a ticket’s presence: the channel reports an error, nothing throws', async () => {
        const echo = echoAs('customer');
        const errors = [];
        const here = [];
        echo.join(`escalated.tickets.${server.ticket}`).here((m) => here.push(m)).error((e) => errors.push(e));
        await eventually(() => errors.length, 10000, 'the refusal');
        expect(here).toEqual([]);
    });
});

describe('what a customer’s socket receives', () => {
    it('never an internal note, nor any staff-only channel', async () => {
        const customer = echoAs('customer');
        const agent = echoAs('agent');
        const customerGot = [];
        const agentGot = [];
        const customerChannel = customer
            .private(`escalated.tickets.${server.ticket}`)
            .listen('.reply.created', (p) => customerGot.push(p))
            .listen('.ticket.updated', (p) => customerGot.push(p));
        const queueErrors = [];
        const queueGot = [];
        customer.private('escalated.tickets').listen('.ticket.created', (p) => queueGot.push(p)).error((e) => queueErrors.push(e));
        agent.private(`escalated.tickets.${server.ticket}`).listen('.reply.created', (p) => agentGot.push(p));
        await new Promise((res) => customerChannel.subscribed(res));
        // The agent's socket sees the note: so it was published while the customer listened.
        await retryUntil(
            () => agentGot.some((p) => p.body.includes('Secret margin')),
            () => note('agent', '<p>Secret margin is 40%</p>'),
        );
        // Then a public reply, which the customer does get: everything before it has been sent.
        await retryUntil(
            () => customerGot.some((p) => p.body?.includes('Public answer')),
            () => reply('agent', '<p>Public answer</p>'),
        );
        expect(JSON.stringify(customerGot)).not.toContain('Secret margin');
        expect(customerGot.every((p) => p.is_internal_note !== true)).toBe(true);
        await eventually(() => queueErrors.length, 5000, 'the queue refusal');
        expect(queueGot).toEqual([]);
    });
});

describe('channels with no subscription here', () => {
    it('chat channels are silent no-ops with one warning', () => {
        const echo = echoAs('agent');
        const channel = echo.private('escalated.chat.7');
        expect(channel.listen('.chat.message', () => {})).toBe(channel);
        echo.private('escalated.chat.7').listen('.chat.typing', () => {}).stopListening('.chat.typing');
        echo.leave('escalated.chat.7');
        expect(echo.warnings.filter((w) => w.includes('escalated.chat.7'))).toHaveLength(1);
    });
});

describe('reconnect', () => {
    it('after the server restarts: reconnects, resubscribes, reloads the listened props once', async () => {
        const reloads = [];
        const echo = echoAs('agent', { reload: (props) => reloads.push(props) });
        const got = [];
        const channel = echo.private(`escalated.tickets.${server.ticket}`).listen('.reply.created', (p) => got.push(p));
        echo.private('escalated.chat.1').listen('.chat.message', () => {});
        await new Promise((res) => channel.subscribed(res));
        await retryUntil(() => got.length, () => reply('customer', '<p>before restart</p>'));
        const firstSocket = echo.socketId();

        await server.restart();
        // Includes the new server's start-up (Django, the schema), slow on a busy machine.
        await eventually(() => reloads.length, 60000, 'the reload after reconnecting');
        expect(reloads).toEqual([['ticket']]);
        expect(echo.socketId()).not.toBe(firstSocket);
        await retryUntil(() => got.some((p) => p.body.includes('after restart')), () => reply('customer', '<p>after restart</p>'));
        expect(reloads).toHaveLength(1);
    }, 120000);
});

const delay = (ms) => new Promise((res) => setTimeout(res, ms));

/**
 * The server registers a subscription a moment after the socket sends it, with no message to
 * say so: cause the event until it arrives (bounded), so no test sleeps on a guess.
 */
async function retryUntil(arrived, cause, { attempts = 20, waitMs = 500 } = {}) {
    for (let i = 0; i < attempts; i++) {
        await cause();
        const until = Date.now() + waitMs;
        while (Date.now() < until) {
            if (arrived()) return;
            await delay(20);
        }
    }
    throw new Error('the event never arrived');
}
