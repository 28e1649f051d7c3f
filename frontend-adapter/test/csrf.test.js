import { http } from '@inertiajs/vue3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { installDjangoCsrf, metaTokenFallback, readCookie, readMetaToken } from '../src/csrf.js';

function clearCookies() {
    for (const part of document.cookie.split(';')) {
        const name = part.split('=')[0].trim();
        if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT`;
    }
}

beforeEach(() => {
    clearCookies();
    document.head.innerHTML = '<meta name="csrf-token" content="meta-token-value">';
});
afterEach(clearCookies);

describe('reading the token', () => {
    it('reads one cookie among several, decoded', () => {
        document.cookie = 'sessionid=abc';
        document.cookie = 'csrftoken=a%2Bb';
        expect(readCookie('csrftoken')).toBe('a+b');
        expect(readCookie('csrf')).toBeNull();
    });

    it('reads the meta tag escalated_head writes', () => {
        expect(readMetaToken()).toBe('meta-token-value');
        document.head.innerHTML = '';
        expect(readMetaToken()).toBeNull();
    });
});

describe('the meta tag fallback', () => {
    const add = metaTokenFallback();

    it('adds X-CSRFToken from the meta tag to unsafe requests when the cookie is unreadable', () => {
        for (const method of ['post', 'put', 'patch', 'delete', 'POST']) {
            const config = add({ method, url: '/support/tickets/', headers: { Accept: 'text/html' } });
            expect(config.headers).toEqual({ Accept: 'text/html', 'X-CSRFToken': 'meta-token-value' });
        }
    });

    it('leaves safe requests alone', () => {
        expect(add({ method: 'get', url: '/support/' }).headers).toBeUndefined();
    });

    it('leaves the header to the client when the cookie is readable', () => {
        document.cookie = 'csrftoken=cookie-token';
        expect(add({ method: 'post', url: '/x' }).headers).toBeUndefined();
    });

    it('uses the names the host configured', () => {
        const custom = metaTokenFallback({ cookieName: 'hostcsrf', headerName: 'X-Host-CSRF' });
        document.cookie = 'csrftoken=not-ours';
        expect(custom({ method: 'post' }).headers).toEqual({ 'X-Host-CSRF': 'meta-token-value' });
    });
});

describe('installDjangoCsrf on the real Inertia client', () => {
    let remove;
    afterEach(() => remove?.());

    it("gives Inertia's XHR client Django's cookie and header names", () => {
        remove = installDjangoCsrf(http);
        const client = http.getClient();
        expect(client.xsrfCookieName).toBe('csrftoken');
        expect(client.xsrfHeaderName).toBe('X-CSRFToken');
    });

    it('runs the meta fallback in the request pipeline', async () => {
        remove = installDjangoCsrf(http);
        const config = await http.processRequest({ method: 'delete', url: '/support/admin/tags/1/' });
        expect(config.headers['X-CSRFToken']).toBe('meta-token-value');
    });

    it('sends the cookie as X-CSRFToken on a real request', async () => {
        remove = installDjangoCsrf(http);
        document.cookie = 'csrftoken=cookie-token';
        const sent = [];
        const { setRequestHeader, send } = XMLHttpRequest.prototype;
        XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
            sent.push([name, value]);
            return setRequestHeader.call(this, name, value);
        };
        // Stop at the wire: the headers are set by then, and no server is needed.
        XMLHttpRequest.prototype.send = function () {
            this.onabort();
        };
        try {
            await expect(
                http.getClient().request({ method: 'post', url: '/support/tickets/', data: {} }),
            ).rejects.toThrow('Request was cancelled');
        } finally {
            Object.assign(XMLHttpRequest.prototype, { setRequestHeader, send });
        }
        expect(sent).toContainEqual(['X-CSRFToken', 'cookie-token']);
        expect(sent.map(([name]) => name)).not.toContain('X-XSRF-TOKEN');
    });
});
