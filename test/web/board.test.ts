// Real-time boards in browser contexts as different users (accounts mode, API tokens), against a real
// `gesso serve` with the shipped model:
// - two members see each other's cursors and selections, co-write a prompt draft, vote (one vote each),
//   and a generation one starts appears for both with its live previews and lands on the board;
// - the server refuses a member writing someone else's vote, and a viewer's change (raw WebSocket);
// - one member goes offline, both edit, and after reconnecting both see the merge;
// - an image placed by the owner appears for a viewer within 1 s; the viewer's edit is refused in the
//   browser too; the server restarted, the board (images, draft, votes) is intact.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as encoding from 'lib0/encoding';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { WebSocket } from 'ws';
import * as sync from 'y-protocols/sync';
import * as Y from 'yjs';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { launchChromium } from '../helpers/browser.ts';

let server: RunningServer;
let browser: Browser;
let dir: string;
let port = 0;

interface Account {
  id: string;
  name: string;
  token: string;
}

async function call<T>(tokenValue: string, method: string, path: string, body?: unknown, type = 'application/json'): Promise<T> {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${tokenValue}`, ...(body !== undefined ? { 'content-type': type } : {}) },
    ...(body !== undefined ? { body: type === 'application/json' ? JSON.stringify(body) : (body as Uint8Array) } : {}),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function userPage(tokenValue: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  await context.addInitScript({ content: `localStorage.setItem('gesso.token', ${JSON.stringify(tokenValue)});` });
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  return { context, page };
}

async function importPng(user: Account, colour: { r: number; g: number; b: number }, name: string): Promise<string> {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: colour } })
    .png()
    .toBuffer();
  return (await call<{ id: string }>(user.token, 'POST', `/api/images/import?fileName=${name}`, new Uint8Array(png), 'image/png')).id;
}

/** Sends one Yjs update over a raw WebSocket as `user`; resolves with the server's text notices. */
async function rawUpdate(user: Account, boardId: string, update: Uint8Array): Promise<string[]> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/boards/${boardId}/ws?token=${user.token}`);
  const notices: string[] = [];
  ws.on('message', (data, isBinary) => {
    if (!isBinary) notices.push(String(data));
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  sync.writeUpdate(e, update);
  ws.send(encoding.toUint8Array(e));
  await new Promise((r) => setTimeout(r, 500));
  ws.close();
  return notices;
}

const draftOf = (page: Page) => page.getByTestId('draft').first();
const draftIs = (page: Page, text: string) => page.waitForFunction(`document.querySelector('[data-testid=draft]')?.value === ${JSON.stringify(text)}`);

describe('shared boards in browser contexts', { timeout: 600_000 }, () => {
  let admin: string;
  let alice: Account;
  let bob: Account;
  let carol: Account;
  let boardId: string;
  let redId: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-board-'));
    server = await startServer({ dataDir: dir, port: 0, listen: '127.0.0.1' });
    port = server.port;
    browser = await launchChromium();
    admin = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    const make = async (name: string): Promise<Account> => {
      const created = await call<{ token: string; user?: { id: string }; id?: string }>(admin, 'POST', '/api/users', { name });
      const me = await call<{ id: string; name: string }>(created.token, 'GET', '/api/me');
      return { id: me.id, name: me.name, token: created.token };
    };
    alice = await make('alice');
    bob = await make('bob');
    carol = await make('carol');
    redId = await importPng(alice, { r: 220, g: 60, b: 30 }, 'red.png');
    await importPng(bob, { r: 30, g: 60, b: 220 }, 'blue.png');
    await importPng(carol, { r: 40, g: 180, b: 60 }, 'green.png');
    boardId = (await call<{ id: string }>(alice.token, 'POST', '/api/collections', { name: 'moodboard' })).id;
    await call(alice.token, 'PUT', `/api/collections/${boardId}/members`, { user: 'bob', role: 'viewer' });
    await call(alice.token, 'PUT', `/api/collections/${boardId}/members`, { user: 'carol', role: 'editor' });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('two members: cursors, selections, a co-written draft, votes, and a generation with live previews for both', async () => {
    const a = await userPage(alice.token);
    const c = await userPage(carol.token);
    await a.page.goto(`${server.url}/#/board/${boardId}`);
    await c.page.goto(`${server.url}/#/board/${boardId}`);
    await a.page.getByTestId('board-status').filter({ hasText: 'your role: owner' }).waitFor();
    await c.page.getByTestId('board-status').filter({ hasText: 'your role: editor' }).waitFor();
    await a.page.getByTestId('member').filter({ hasText: 'carol' }).waitFor();
    await c.page.getByTestId('member').filter({ hasText: 'alice' }).waitFor();
    const colours = await c.page
      .getByTestId('member')
      .evaluateAll((els) => els.map((e) => (e as unknown as { style: { borderColor: string } }).style.borderColor));
    assert.equal(new Set(colours).size, 2, `each member in their own colour: ${colours}`);

    // Each places their own image; both see both.
    await a.page.getByTestId('place').first().click();
    await c.page.getByTestId('placed').first().waitFor();
    await c.page.getByTestId('place').first().click();
    await a.page.getByTestId('placed').nth(1).waitFor();
    assert.equal(await a.page.getByTestId('placed').count(), 2);

    // Cursors: each sees the other's, where it is.
    const canvasA = await a.page.getByRole('region', { name: 'Board' }).boundingBox();
    const canvasC = await c.page.getByRole('region', { name: 'Board' }).boundingBox();
    assert.ok(canvasA && canvasC);
    await a.page.mouse.move(canvasA.x + 400, canvasA.y + 250);
    await a.page.mouse.move(canvasA.x + 420, canvasA.y + 260);
    await c.page.mouse.move(canvasC.x + 600, canvasC.y + 80);
    await c.page.mouse.move(canvasC.x + 610, canvasC.y + 90);
    const aliceCursor = c.page.locator('[data-testid=remote-cursor][data-member=alice]');
    await aliceCursor.waitFor();
    await a.page.locator('[data-testid=remote-cursor][data-member=carol]').waitFor();
    // The cursor glides (60 ms transition) and moves arrive in order: wait until it settles where alice is.
    let seen = await aliceCursor.boundingBox();
    for (let i = 0; i < 50 && !(seen && Math.abs(seen.x - canvasC.x - 420) < 3 && Math.abs(seen.y - canvasC.y - 260) < 3); i++) {
      await c.page.waitForTimeout(100);
      seen = await aliceCursor.boundingBox();
    }
    assert.ok(
      seen && Math.abs(seen.x - canvasC.x - 420) < 3 && Math.abs(seen.y - canvasC.y - 260) < 3,
      `alice's cursor at ${JSON.stringify(seen)} on carol's page`,
    );

    // Selection: carol selects the red image; alice sees it marked with carol's name.
    await c.page.getByTestId('placed').filter({ has: c.page.locator(`[data-id="${redId}"]`) });
    await c.page.locator(`[data-testid=placed][data-id="${redId}"] .board-pick`).click();
    await a.page.locator(`[data-testid=placed][data-id="${redId}"] [data-testid=remote-selection]`).filter({ hasText: 'carol' }).waitFor();

    // A draft written by both at once.
    await a.page.getByRole('button', { name: 'New draft' }).click();
    await c.page.getByTestId('draft').waitFor();
    await draftOf(a.page).fill('a red star');
    await draftIs(c.page, 'a red star');
    await draftOf(c.page).click();
    await c.page.keyboard.press('End');
    await draftOf(a.page).click();
    await a.page.keyboard.press('Home');
    await Promise.all([c.page.keyboard.type(', glowing', { delay: 20 }), a.page.keyboard.type('shiny ', { delay: 20 })]);
    const merged = 'shiny a red star, glowing';
    for (const p of [a.page, c.page]) await draftIs(p, merged);

    // Votes: one per member; moving a vote moves it.
    const votesOn = (p: Page, id: string) => p.locator(`[data-testid=placed][data-id="${id}"] [data-testid=vote-count]`);
    await a.page.locator(`[data-testid=placed][data-id="${redId}"] [data-testid=vote]`).click();
    await c.page.locator(`[data-testid=placed][data-id="${redId}"] [data-testid=vote]`).click();
    await votesOn(a.page, redId).filter({ hasText: '2' }).waitFor();
    const greenId = (await c.page.getByTestId('placed').nth(1).getAttribute('data-id')) as string;
    await c.page.locator(`[data-testid=placed][data-id="${greenId}"] [data-testid=vote]`).click();
    await votesOn(a.page, redId).filter({ hasText: '1' }).waitFor();
    await votesOn(a.page, greenId).filter({ hasText: '1' }).waitFor();

    // A viewer watches both members' cursors.
    const b = await userPage(bob.token);
    await b.page.goto(`${server.url}/#/board/${boardId}`);
    await b.page.getByTestId('placed').nth(1).waitFor();
    await a.page.mouse.move(canvasA.x + 330, canvasA.y + 120);
    await a.page.mouse.move(canvasA.x + 340, canvasA.y + 130);
    await c.page.mouse.move(canvasC.x + 200, canvasC.y + 230);
    await c.page.mouse.move(canvasC.x + 210, canvasC.y + 240);
    await b.page.locator('[data-testid=remote-cursor][data-member=alice]').waitFor();
    await b.page.locator('[data-testid=remote-cursor][data-member=carol]').waitFor();
    // Viewers send presence too: alice sees bob's cursor.
    const canvasB = await b.page.getByRole('region', { name: 'Board' }).boundingBox();
    assert.ok(canvasB);
    await b.page.mouse.move(canvasB.x + 700, canvasB.y + 300);
    await b.page.mouse.move(canvasB.x + 710, canvasB.y + 310);
    await a.page.locator('[data-testid=remote-cursor][data-member=bob]').waitFor();
    await b.context.close();

    // Generate from the draft: carol sees alice's generation, its previews while it runs, then its images placed.
    await a.page.getByRole('button', { name: 'Generate from draft 1' }).click();
    await c.page.getByTestId('generation').filter({ hasText: merged }).waitFor();
    await c.page.getByTestId('board-preview').waitFor({ timeout: 300_000 });
    await c.page.locator('[data-testid=generation][data-state=done]').waitFor({ timeout: 300_000 });
    await c.page.getByTestId('placed').nth(3).waitFor();
    await a.page.getByTestId('placed').nth(3).waitFor();
    // The generated image loads (through the session cookie) for the member who did not start it.
    await c.page.waitForFunction(`[...document.querySelectorAll('[data-testid=placed] img')].slice(2).every((i) => i.complete && i.naturalWidth > 0)`);
    await a.context.close();
    await c.context.close();
  });

  test("the server refuses writing another member's vote, and any change from a viewer", async () => {
    const forged = new Y.Doc();
    forged.getMap('votes').set(alice.id, { imageId: redId, name: 'alice' });
    const byCarol = await rawUpdate(carol, boardId, Y.encodeStateAsUpdate(forged));
    assert.ok(
      byCarol.some((n) => n.includes('only cast their own vote')),
      byCarol.join('\n'),
    );
    const byBob = await rawUpdate(bob, boardId, Y.encodeStateAsUpdate(forged));
    assert.ok(
      byBob.some((n) => n.includes('viewer')),
      byBob.join('\n'),
    );
    const state = await call<{ id: string }>(alice.token, 'GET', `/api/collections/${boardId}`);
    assert.equal(state.id, boardId);
  });

  test('offline edits merge when the connection returns', async () => {
    const a = await userPage(alice.token);
    const c = await userPage(carol.token);
    await a.page.goto(`${server.url}/#/board/${boardId}`);
    await c.page.goto(`${server.url}/#/board/${boardId}`);
    await c.page.getByTestId('board-status').filter({ hasText: 'connected' }).waitFor();
    await a.page.getByTestId('board-status').filter({ hasText: 'connected' }).waitFor();
    const placedBefore = await a.page.getByTestId('placed').count();

    await c.context.setOffline(true);
    await c.page.getByTestId('board-status').filter({ hasText: 'offline' }).waitFor();
    await draftOf(c.page).click();
    await c.page.keyboard.press('End');
    await c.page.keyboard.type(' at night');
    await c.page.getByTestId('place').first().click();
    await draftOf(a.page).click();
    await a.page.keyboard.press('Home');
    await a.page.keyboard.type('big ');
    await a.page.waitForTimeout(500);
    assert.equal(await a.page.getByTestId('placed').count(), placedBefore, 'the offline edit has not reached alice yet');

    await c.context.setOffline(false);
    const merged = 'big shiny a red star, glowing at night';
    for (const p of [a.page, c.page]) {
      await draftIs(p, merged);
      await p.getByTestId('placed').nth(placedBefore).waitFor();
    }
    await a.context.close();
    await c.context.close();
  });

  test('owner places, viewer sees it within 1 s, viewer edit refused, board survives a restart', async () => {
    const a = await userPage(alice.token);
    const b = await userPage(bob.token);
    await a.page.goto(`${server.url}/#/board/${boardId}`);
    await b.page.goto(`${server.url}/#/board/${boardId}`);
    await a.page.getByTestId('board-status').filter({ hasText: 'your role: owner' }).waitFor();
    await b.page.getByTestId('board-status').filter({ hasText: 'your role: viewer' }).waitFor();
    await b.page.getByTestId('placed').first().waitFor();
    const before = await b.page.getByTestId('placed').count();

    // Owner places an image; the viewer sees it within 1 s.
    await a.page.getByTestId('place').first().click();
    const placedAt = Date.now();
    await b.page.getByTestId('placed').nth(before).waitFor({ timeout: 5_000 });
    const delay = Date.now() - placedAt;
    assert.ok(delay < 1000, `the viewer saw the placed image after ${delay} ms`);

    // The viewer tries to place one of their own: the server refuses it, and the viewer's page shows the board as it is.
    await b.page.getByTestId('place').first().click();
    await b.page.getByTestId('board-notice').filter({ hasText: 'viewer' }).waitFor();
    await a.page.waitForTimeout(1000);
    assert.equal(await a.page.getByTestId('placed').count(), before + 1, 'the owner never sees the refused edit');
    await b.page.waitForFunction(`document.querySelectorAll('[data-testid=placed]').length === ${before + 1}`);
    const draft = await draftOf(a.page).inputValue();
    const votes = await a.page.getByTestId('vote-count').allInnerTexts();

    // Restart the server on the same data folder and port: the board is intact, without the viewer's edit.
    await a.context.close();
    await b.context.close();
    await server.close();
    server = await startServer({ dataDir: dir, port, listen: '127.0.0.1' });
    const again = await userPage(bob.token);
    await again.page.goto(`${server.url}/#/board/${boardId}`);
    await again.page.getByTestId('placed').nth(before).waitFor();
    assert.equal(await again.page.getByTestId('placed').count(), before + 1);
    assert.equal(await draftOf(again.page).inputValue(), draft);
    assert.deepEqual(await again.page.getByTestId('vote-count').allInnerTexts(), votes);
    await again.context.close();
  });
});
