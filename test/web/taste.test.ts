// The Taste page in Debian's Chromium against a real `gesso serve`: after comparisons recorded through the
// API, the library's best come first, "Why?" shows the comparisons that drove an image's score, and
// "Suggest what to make next" proposes the settings whose images the model likes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { insertTextChunks } from '../../src/image/png-chunks.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { launchChromium } from '../helpers/browser.ts';

let server: RunningServer;
let browser: Browser;
let dir: string;

async function importDisc(rgb: [number, number, number], i: number, prompt: string): Promise<string> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="white"/><circle cx="32" cy="32" r="${12 + i * 3}" fill="rgb(${rgb.join(',')})"/></svg>`;
  const png = insertTextChunks(new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer()), [
    { keyword: 'parameters', text: `${prompt}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: ${i}, Size: 64x64` },
  ]);
  const res = await fetch(`${server.url}/api/images/import?fileName=d${i}.png`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png });
  return ((await res.json()) as { id: string }).id;
}

describe('the Taste page', { timeout: 300_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-taste-web-'));
    server = await startServer({ dataDir: dir, port: 0 });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('best first, why, and what to make next', async () => {
    const warm: string[] = [];
    const cool: string[] = [];
    for (let i = 0; i < 3; i++) {
      warm.push(await importDisc([230, 90 + i * 30, 20], i, 'an orange sun'));
      cool.push(await importDisc([20, 90 + i * 30, 230], i, 'a blue sea'));
    }
    for (let i = 0; i < 9; i++) {
      const res = await fetch(`${server.url}/api/comparisons`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ a: cool[i % 3], b: warm[(i + 1) % 3], winner: 'b' }),
      });
      assert.equal(res.status, 201);
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(60_000);
    await page.goto(`${server.url}/#/taste`);
    await page.getByTestId('taste-status').filter({ hasText: 'learnt from 9 judgements' }).waitFor();
    const best = page.getByTestId('best');
    assert.equal(await best.count(), 6);
    const firstThree = await best.locator('img').evaluateAll((imgs) => imgs.slice(0, 3).map((i) => i.getAttribute('src') ?? ''));
    assert.deepEqual(new Set(firstThree.map((src) => src.split('/')[3])), new Set(warm), 'the warm images rank first');

    await page.getByRole('button', { name: 'Why is image 1 ranked here?' }).click();
    const influences = page.getByTestId('influence');
    await influences.first().waitFor();
    assert.equal(await influences.count(), 5);
    assert.match((await influences.first().textContent()) ?? '', /you picked the first in a comparison · \+/);

    await page.getByRole('button', { name: 'Suggest what to make next' }).click();
    const suggestion = page.getByTestId('suggestion').first();
    await suggestion.waitFor();
    assert.match((await suggestion.textContent()) ?? '', /an orange sun · CFG 7 · seeds 3, 4, 5, 6/);
    await page.close();
  });
});
