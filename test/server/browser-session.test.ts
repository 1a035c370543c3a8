// Browser sessions with --listen: images, event streams and board WebSockets work with the session
// cookie a token buys (POST /api/session) and are refused without it; the cookie never authorises a
// changing request; a forged, expired or revoked session is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { WebSocket } from 'ws';
import { BrowserSessions, SESSION_COOKIE, SESSION_TTL_MS } from '../../src/server/browser-sessions.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';

let server: RunningServer;
let dir: string;
let token: string;
let imageId: string;

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(server.url + path, { headers });
}

async function session(tokenValue: string): Promise<string> {
  const res = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { authorization: `Bearer ${tokenValue}` } });
  assert.equal(res.status, 200, await res.clone().text());
  const setCookie = res.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  assert.match(setCookie, new RegExp(`Max-Age=${SESSION_TTL_MS / 1000}`));
  const value = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(setCookie)?.[1];
  assert.ok(value, setCookie);
  return `${SESSION_COOKIE}=${value}`;
}

/** Opens a board WebSocket with a cookie; resolves with the first text message or the close code. */
function boardSocket(boardId: string, cookie: string | null): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/boards/${boardId}/ws`, cookie ? { headers: { cookie } } : {});
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        resolve(String(data));
        ws.close();
      }
    });
    ws.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
    ws.on('error', () => undefined);
  });
}

describe('browser sessions in --listen mode', { timeout: 120_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-session-'));
    server = await startServer({ dataDir: dir, port: 0, listen: '127.0.0.1' });
    const admin = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    const res = await fetch(`${server.url}/api/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dora' }),
    });
    token = ((await res.json()) as { token: string }).token;
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 100, b: 0 } } })
      .png()
      .toBuffer();
    const imported = await fetch(`${server.url}/api/images/import?fileName=a.png`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' },
      body: new Uint8Array(png),
    });
    imageId = ((await imported.json()) as { id: string }).id;
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('images: refused without a token or cookie, served with the session cookie', async () => {
    assert.equal((await get(`/api/images/${imageId}/png`)).status, 401);
    const cookie = await session(token);
    const res = await get(`/api/images/${imageId}/png`, { cookie });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal((await get(`/api/images/${imageId}/png`, { cookie: `${SESSION_COOKIE}=nonsense` })).status, 401);
  });

  test('live previews: the event streams and the board WebSocket accept the cookie and refuse without it', async () => {
    const cookie = await session(token);
    const job = (await (
      await fetch(`${server.url}/api/jobs/sleep`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ms: 300, steps: 3 }),
      })
    ).json()) as { id: string };
    assert.equal((await get(`/api/jobs/${job.id}/events`)).status, 401);
    const stream = await get(`/api/jobs/${job.id}/events`, { cookie });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
    // The stream stays open: read until the job's state arrives, then hang up.
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: state')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    assert.match(text, /event: state/);

    const board = (await (
      await fetch(`${server.url}/api/collections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'b' }),
      })
    ).json()) as { id: string };
    assert.match(await boardSocket(board.id, cookie), /"type":"hello","role":"owner"/);
    assert.equal(await boardSocket(board.id, null), 'http 401');
  });

  test('the cookie never authorises a changing request (cross-site request forgery)', async () => {
    const cookie = await session(token);
    const res = await fetch(`${server.url}/api/images/${imageId}`, {
      method: 'PATCH',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ rating: 5 }),
    });
    assert.equal(res.status, 401);
    const session2 = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { cookie } });
    assert.equal(session2.status, 401, 'a cookie cannot buy itself a new cookie');
  });

  test('a forged, expired or revoked session is refused', async () => {
    const sessions = new BrowserSessions(server.studio.db, server.studio.users);
    const issued = sessions.issue(token);
    assert.ok(issued);
    assert.equal(sessions.verify(issued.value)?.name, 'dora');
    const [id, expires, mac] = issued.value.split('.') as [string, string, string];
    assert.equal(sessions.verify(`${id}.${Number(expires) + 1000}.${mac}`), null, 'a longer expiry breaks the MAC');
    assert.equal(sessions.verify(issued.value, Number(expires) + 1), null, 'expired');
    assert.equal(sessions.issue('gso_not-a-token'), null);
    const cookie = await session(token);
    const user = server.studio.users.byName('dora');
    assert.ok(user);
    server.studio.users.revokeTokens(user.id);
    assert.equal((await get(`/api/images/${imageId}/png`, { cookie })).status, 401, 'revoking the token ends its sessions');
  });
});
