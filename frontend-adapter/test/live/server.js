/**
 * The project's own ASGI app under uvicorn, for the live tests: `tests/realtime/echo_server.py`
 * seeds a fresh SQLite file (the World of the Python suite, with a session cookie and an API token
 * per person), serves it on a free port, and restarts it on request.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import WebSocket from 'ws';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PYTHON = process.env.ESCALATED_PYTHON ?? join(ROOT, '.venv/bin/python');

export async function startServer() {
    const folder = mkdtempSync(join(tmpdir(), 'escalated-echo-'));
    const child = spawn(PYTHON, ['-m', 'tests.realtime.echo_server', join(folder, 'db.sqlite3')], {
        cwd: ROOT,
        env: { ...process.env, PYTHONPATH: ROOT },
        stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    const waiting = [];
    const queued = [];
    lines.on('line', (line) => (waiting.length ? waiting.shift()(line) : queued.push(line)));
    const nextLine = () => new Promise((res) => (queued.length ? res(queued.shift()) : waiting.push(res)));
    const exited = new Promise((res) => child.on('exit', res));

    const world = JSON.parse(await Promise.race([nextLine(), exited.then(() => 'null')]));
    if (!world) throw new Error('tests.realtime.echo_server exited before serving (see its stderr)');

    return {
        ...world,
        url: `ws://${world.address}/support/graphql/`,
        /** A WebSocket class whose handshake carries `person`'s session cookie (or none). */
        socketFor(person) {
            const cookie = person ? `${world.session_cookie}=${world.sessions[person]}` : null;
            return class extends WebSocket {
                constructor(url, protocols) {
                    super(url, protocols, cookie ? { headers: { Cookie: cookie } } : {});
                    // Node's ws throws an 'error' nobody listens to (a browser's WebSocket never
                    // does): a server stopped mid-close must not crash the test run. The client
                    // hears of it through the close event, as in a browser.
                    this.on('error', () => {});
                }
            };
        },
        /** A fetch() that posts as `person`'s browser would: session cookie and CSRF pair. */
        fetchFor(person) {
            const csrf = 'echotestsecretechotestsecret1234';
            return (url, init) =>
                fetch(new URL(url, `http://${world.address}`), {
                    ...init,
                    headers: {
                        ...init.headers,
                        Cookie: `${world.session_cookie}=${world.sessions[person]}; csrftoken=${csrf}`,
                        'X-CSRFToken': csrf,
                    },
                });
        },
        /** Run an operation over HTTP as `person` (their API token); its data, or throw. */
        async graphql(person, query, variables = {}) {
            const response = await fetch(`http://${world.address}/support/graphql/`, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${world.tokens[person]}` },
                body: JSON.stringify({ query, variables }),
            });
            const body = await response.json();
            if (body.errors) throw new Error(JSON.stringify(body.errors));
            return body.data;
        },
        async restart() {
            child.stdin.write('restart\n');
            const line = await nextLine();
            if (line !== 'restarted') throw new Error(`unexpected answer to restart: ${line}`);
        },
        async stop() {
            child.stdin.end();
            await exited;
            rmSync(folder, { recursive: true, force: true });
        },
    };
}

export const gid = (type, pk) => Buffer.from(`${type}:${pk}`).toString('base64');

/** Resolves when `predicate()` holds, polling; rejects after `timeoutMs`. */
export async function eventually(predicate, timeoutMs = 10000, what = 'the condition') {
    const until = Date.now() + timeoutMs;
    for (;;) {
        const value = predicate();
        if (value) return value;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((res) => setTimeout(res, 25));
    }
}
