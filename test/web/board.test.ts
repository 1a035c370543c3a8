// Real-time boards in two browser contexts as two users (accounts mode, API tokens): an image placed by
// the owner appears for the viewer within 1 s; the viewer's edit is refused by the server (not applied,
// not stored, not seen by the owner); the server restarted, the board is intact.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { launchChromium } from '../helpers/browser.ts';

let server: RunningServer;
let browser: Browser;
let dir: string;
let port = 0;

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
  const context = await browser.newContext();
  await context.addInitScript({ content: `localStorage.setItem('gesso.token', ${JSON.stringify(tokenValue)});` });
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  return { context, page };
}

describe('shared boards in two browser contexts', { timeout: 300_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-board-'));
    server = await startServer({ dataDir: dir, port: 0, listen: '127.0.0.1' });
    port = server.port;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('owner places, viewer sees it within 1 s, viewer edit refused, board survives a restart', async () => {
    const admin = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    const alice = await call<{ token: string }>(admin, 'POST', '/api/users', { name: 'alice' });
    const bob = await call<{ token: string }>(admin, 'POST', '/api/users', { name: 'bob' });
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 220, g: 60, b: 30 } } })
      .png()
      .toBuffer();
    const aliceImage = await call<{ id: string }>(alice.token, 'POST', '/api/images/import?fileName=red.png', new Uint8Array(png), 'image/png');
    const bluePng = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 30, g: 60, b: 220 } } })
      .png()
      .toBuffer();
    await call(bob.token, 'POST', '/api/images/import?fileName=blue.png', new Uint8Array(bluePng), 'image/png');
    const board = await call<{ id: string }>(alice.token, 'POST', '/api/collections', { name: 'moodboard' });
    await call(alice.token, 'POST', `/api/collections/${board.id}/items`, { imageId: aliceImage.id });
    await call(alice.token, 'PUT', `/api/collections/${board.id}/members`, { user: 'bob', role: 'viewer' });

    const a = await userPage(alice.token);
    const b = await userPage(bob.token);
    await a.page.goto(`${server.url}/#/board/${board.id}`);
    await b.page.goto(`${server.url}/#/board/${board.id}`);
    await a.page.getByTestId('board-status').filter({ hasText: 'your role: owner' }).waitFor();
    await b.page.getByTestId('board-status').filter({ hasText: 'your role: viewer' }).waitFor();

    // Owner places an image; the viewer sees it within 1 s.
    await a.page.getByTestId('place').first().click();
    const placedAt = Date.now();
    await b.page.getByTestId('placed').first().waitFor({ timeout: 5_000 });
    const delay = Date.now() - placedAt;
    assert.ok(delay < 1000, `the viewer saw the placed image after ${delay} ms`);
    assert.equal(await b.page.getByTestId('placed').first().getAttribute('data-id'), aliceImage.id);

    // The viewer tries to place one of their own: the server refuses it.
    await b.page.getByTestId('place').first().click();
    await b.page.getByTestId('board-notice').filter({ hasText: 'viewer' }).waitFor();
    await a.page.waitForTimeout(1000);
    assert.equal(await a.page.getByTestId('placed').count(), 1, 'the owner never sees the refused edit');

    // Restart the server on the same data folder and port: the board is intact, without the viewer's edit.
    await a.context.close();
    await b.context.close();
    await server.close();
    server = await startServer({ dataDir: dir, port, listen: '127.0.0.1' });
    const again = await userPage(bob.token);
    await again.page.goto(`${server.url}/#/board/${board.id}`);
    await again.page.getByTestId('placed').first().waitFor();
    assert.equal(await again.page.getByTestId('placed').count(), 1);
    assert.equal(await again.page.getByTestId('placed').first().getAttribute('data-id'), aliceImage.id);
    await again.context.close();
  });
});
