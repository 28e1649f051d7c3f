// @vitest-environment node
import { describe, expect, it } from 'vitest';

import { resolveChannel, splitChannelName, ticketEventNames } from '../src/echo/channels.js';
import { globalId, primaryKey, ticketEventPayload } from '../src/echo/payloads.js';
import { backoffDelay, graphqlSocketUrl } from '../src/echo/socket.js';

describe('channel names', () => {
    it('splits the type prefix Echo puts on the wire', () => {
        expect(splitChannelName('private-escalated.tickets.5')).toEqual({ type: 'private', name: 'escalated.tickets.5' });
        expect(splitChannelName('presence-escalated.tickets.5')).toEqual({ type: 'presence', name: 'escalated.tickets.5' });
        expect(splitChannelName('escalated.tickets')).toEqual({ type: 'public', name: 'escalated.tickets' });
    });

    it('maps each channel the pages use to its subscription', () => {
        expect(resolveChannel('private', 'escalated.tickets.42').subscription).toMatchObject({
            field: 'ticketEvents',
            variables: { ticketId: globalId('Ticket', 42) },
        });
        expect(resolveChannel('private', 'escalated.tickets').subscription.field).toBe('queueEvents');
        expect(resolveChannel('private', 'escalated.agents.7')).toMatchObject({ owner: 7, props: ['tickets'] });
        expect(resolveChannel('presence', 'escalated.tickets.42')).toEqual({
            presence: true,
            ticketId: globalId('Ticket', 42),
            props: [],
        });
    });

    it('has nothing for chat, nor a presence channel on a queue', () => {
        expect(resolveChannel('private', 'escalated.chat.3')).toBeNull();
        expect(resolveChannel('private', 'escalated.chat.queue')).toBeNull();
        expect(resolveChannel('presence', 'escalated.tickets')).toBeNull();
    });
});

describe('event names', () => {
    it('maps our kinds to the names the pages listen for', () => {
        expect(ticketEventNames({ kind: 'REPLY_ADDED' })).toEqual(['reply.created']);
        expect(ticketEventNames({ kind: 'NOTE_ADDED' })).toEqual(['reply.created']);
        expect(ticketEventNames({ kind: 'ASSIGNED' })).toEqual(['ticket.assigned']);
        expect(ticketEventNames({ kind: 'STATUS_CHANGED', ticket: { status: 'RESOLVED' } })).toEqual([
            'ticket.status_changed',
        ]);
        expect(ticketEventNames({ kind: 'STATUS_CHANGED', ticket: { status: 'ESCALATED' } })).toEqual([
            'ticket.status_changed',
            'ticket.escalated',
        ]);
        for (const kind of ['PRIORITY_CHANGED', 'TAGS_CHANGED', 'SLA_BREACHED', 'NOTE_PINNED', 'UPDATED']) {
            expect(ticketEventNames({ kind })).toEqual(['ticket.updated']);
        }
    });
});

describe('payloads', () => {
    it('use the numeric ids and snake_case names of the page props', () => {
        const payload = ticketEventPayload({
            kind: 'STATUS_CHANGED',
            ticketId: globalId('Ticket', 9),
            changedFields: ['status', 'firstResponseAt'],
            occurredAt: '2026-12-04T10:00:00+00:00',
            actor: { id: globalId('User', 3), name: 'Alan Agent' },
            ticket: {
                id: globalId('Ticket', 9),
                reference: 'ESC-00009',
                subject: 'S',
                status: 'IN_PROGRESS',
                priority: 'HIGH',
                assignee: null,
            },
            reply: null,
        });
        expect(payload).toMatchObject({
            kind: 'status_changed',
            ticket_id: 9,
            reference: 'ESC-00009',
            changed_fields: ['status', 'first_response_at'],
            actor: { id: 3, name: 'Alan Agent' },
            ticket: { id: 9, status: 'in_progress', priority: 'high', assignee: null },
        });
        expect(payload).not.toHaveProperty('body');
    });

    it('a ticket out of sight has no reference, and a bad id is left alone', () => {
        const payload = ticketEventPayload({ kind: 'UPDATED', ticketId: globalId('Ticket', 9), ticket: null });
        expect(payload).toMatchObject({ ticket_id: 9, reference: null, ticket: null, actor: null });
        expect(primaryKey('not base64!')).toBe('not base64!');
    });
});

describe('the socket', () => {
    it('backs off doubling, capped, with spread', () => {
        const fixed = { initialMs: 100, maxMs: 1000, random: () => 1 };
        expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, fixed))).toEqual([100, 200, 400, 800, 1000, 1000]);
        expect(backoffDelay(0, { ...fixed, random: () => 0 })).toBe(75);
    });

    it('lives at /<prefix>/graphql/ on the page’s host, wss on https', () => {
        expect(graphqlSocketUrl('support', { protocol: 'http:', host: 'a.test:8000' })).toBe('ws://a.test:8000/support/graphql/');
        expect(graphqlSocketUrl('/help/', { protocol: 'https:', host: 'a.test' })).toBe('wss://a.test/help/graphql/');
        expect(graphqlSocketUrl('', { protocol: 'https:', host: 'a.test' })).toBe('wss://a.test/graphql/');
    });
});
