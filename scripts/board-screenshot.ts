// The Board page with several members at work, for docs/studio/board.png: a real `gesso serve --listen`
// (accounts and tokens) on a fresh data folder, images from the shipped model, and three Chromium
// contexts: alice (owner) and carol (editor) move, select, write a draft, vote and start a generation;
// the screenshot is bob's (a viewer) while the generation's live preview streams.
// Run: npm run docs:board
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { startServer } from '../src/server/serve.ts';
import { launchChromium } from '../test/helpers/browser.ts';

const out = join(import.meta.dirname, '../docs/studio');
mkdirSync(out, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'gesso-board-shot-'));
const server = await startServer({ dataDir: dir, port: 0, listen: '127.0.0.1' });
const browser = await launchChromium();
try {
  const call = async <T>(token: string, method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const admin = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
  const token = async (name: string) => (await call<{ token: string }>(admin, 'POST', '/api/users', { name })).token;
  const [alice, carol, bob] = [await token('alice'), await token('carol'), await token('bob')];
  for (const [i, prompt] of ['a red star', 'a blue flower'].entries()) {
    const job = await call<{ id: string }>(alice, 'POST', '/api/generate', { prompt, steps: 15, seed: 40 + i * 10, batchSize: 2 });
    await server.studio.queue.waitFor(server.studio.users.byName('alice')!.id, job.id);
  }
  const board = await call<{ id: string }>(alice, 'POST', '/api/collections', { name: 'poster ideas' });
  await call(alice, 'PUT', `/api/collections/${board.id}/members`, { user: 'carol', role: 'editor' });
  await call(alice, 'PUT', `/api/collections/${board.id}/members`, { user: 'bob', role: 'viewer' });

  const open = async (t: string): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.addInitScript({ content: `localStorage.setItem('gesso.token', ${JSON.stringify(t)});` });
    const page = await context.newPage();
    page.setDefaultTimeout(180_000);
    await page.goto(`${server.url}/#/board/${board.id}`);
    await page.getByTestId('board-status').filter({ hasText: 'your role' }).waitFor();
    return page;
  };
  const a = await open(alice);
  const c = await open(carol);
  for (let i = 0; i < 4; i++) await a.getByTestId('place').nth(i).click();
  await c.getByTestId('placed').nth(3).waitFor();
  await a.getByRole('button', { name: 'New draft' }).click();
  await a.getByTestId('draft').fill('a red star, bold outline');
  await c.getByTestId('draft').click();
  await c.keyboard.press('End');
  await c.keyboard.type(', on a blue flower');
  const ids = await a.getByTestId('placed').evaluateAll((els) => els.map((e) => e.getAttribute('data-id') ?? ''));
  await a.locator(`[data-testid=placed][data-id="${ids[0]}"] [data-testid=vote]`).click();
  await c.locator(`[data-testid=placed][data-id="${ids[0]}"] [data-testid=vote]`).click();
  await c.locator(`[data-testid=placed][data-id="${ids[2]}"] .board-pick`).click();
  const b = await open(bob);
  await a.getByRole('button', { name: 'Generate from draft 1' }).click();
  const canvas = async (p: Page) => (await p.getByRole('region', { name: 'Board' }).boundingBox())!;
  const [ca, cc] = [await canvas(a), await canvas(c)];
  await a.mouse.move(ca.x + 120, ca.y + 90);
  await a.mouse.move(ca.x + 130, ca.y + 100);
  await c.mouse.move(cc.x + 560, cc.y + 180);
  await c.mouse.move(cc.x + 570, cc.y + 190);
  await b.locator('[data-testid=remote-cursor][data-member=alice]').waitFor();
  await b.locator('[data-testid=remote-cursor][data-member=carol]').waitFor();
  await b.getByTestId('board-preview').waitFor({ timeout: 900_000 });
  await b.waitForFunction("[...document.querySelectorAll('[data-testid=placed] img')].every((i) => i.complete && i.naturalWidth > 0)");
  const shot = await b.screenshot({ fullPage: true });
  await sharp(shot).png({ palette: true, colours: 128 }).toFile(join(out, 'board.png')); // palette PNG: small in git
  await b.locator('[data-testid=generation][data-state=done]').waitFor({ timeout: 900_000 });
  console.log(`screenshot in ${join(out, 'board.png')}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
