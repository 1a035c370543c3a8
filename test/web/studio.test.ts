// The web studio in Debian's Chromium against a real `gesso serve` (fresh data folder, shipped model):
// generate with live previews and find the result in the library; rate, favourite and tag with the
// keyboard; compare with the arrow keys; cancel a running job; a server error shown to the user.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { launchChromium } from '../helpers/browser.ts';

let server: RunningServer;
let browser: Browser;
let page: Page;
let dir: string;

async function api<T>(path: string): Promise<T> {
  const res = await fetch(server.url + path);
  return (await res.json()) as T;
}

type Img = { id: string; rating: number | null; favourite: boolean; tags: string[] };

describe('web studio in Chromium', { timeout: 600_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-web-'));
    server = await startServer({ dataDir: dir, port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(120_000);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('generate: live previews while the job runs, results in the library', async () => {
    await page.goto(`${server.url}/#/generate`);
    await page.getByLabel('Prompt', { exact: true }).fill('a red star');
    await page.getByLabel('Steps').fill('20');
    await page.getByLabel('Seed', { exact: true }).fill('7');
    await page.getByLabel('Batch').fill('2');
    assert.equal(await page.getByLabel('Lock seed').isChecked(), true, 'typing a seed locks it');
    await page.getByRole('button', { name: 'Generate' }).click();

    // A preview while the job is still running (previews come every 5 steps of 20).
    await page.waitForFunction(
      "document.querySelector('[data-testid=preview]') !== null && (document.querySelector('[data-testid=job-status]')?.textContent ?? '').startsWith('running')",
    );
    await page.getByTestId('job-status').filter({ hasText: /^done/ }).waitFor();
    const results = page.getByRole('list', { name: 'Results' }).getByRole('img');
    assert.equal(await results.count(), 2);

    const { images } = await api<{ images: (Img & { seed: number; prompt: string })[] }>('/api/images');
    assert.equal(images.length, 2);
    assert.deepEqual(images.map((i) => i.seed).sort(), [7, 8]);

    await page.getByRole('link', { name: 'Library' }).click();
    await page.getByLabel('Search').fill('red star');
    await page.getByText('2 images').waitFor();
    assert.equal(await page.getByTestId('tile').count(), 2);
    await page.getByLabel('Search').fill('blue moon');
    await page.getByText('0 images').waitFor();
    await page.getByLabel('Search').fill('');
    await page.getByText('2 images').waitFor();
  });

  test('library: rate 1–5, F favourite and T tag from the keyboard', async () => {
    await page.goto(`${server.url}/#/library`);
    await page.getByTestId('tile').first().click();
    const grid = page.getByRole('listbox', { name: 'Images' });
    await grid.focus();
    await page.keyboard.press('ArrowRight'); // the second (older) image
    await page.keyboard.press('4');
    await page.getByTestId('rating').filter({ hasText: '★★★★☆' }).waitFor();
    await page.keyboard.press('f');
    await page.getByTestId('rating').filter({ hasText: 'favourite' }).waitFor();
    await page.keyboard.press('t');
    assert.equal(
      await page.evaluate("document.activeElement?.closest('label')?.textContent ?? ''"),
      'Add tags (comma separated)',
      'T moves focus to the tag field',
    );
    await page.keyboard.type('keeper, night sky');
    await page.keyboard.press('Enter');
    await page.getByRole('list', { name: 'Tags' }).getByText('keeper').waitFor();

    const { images } = await api<{ images: Img[] }>('/api/images');
    const rated = images[1]!;
    assert.equal(rated.rating, 4);
    assert.equal(rated.favourite, true);
    assert.deepEqual([...rated.tags].sort(), ['keeper', 'night sky']);
    assert.equal(images[0]!.rating, null, 'the other image is untouched');

    // Filters: minimum rating 4 shows only the rated one.
    await page.getByLabel('Minimum rating').selectOption('4');
    await page.getByText('1 images').waitFor();
  });

  test('compare: → records the right image as the better one', async () => {
    await page.goto(`${server.url}/#/compare`);
    const left = await page.getByTestId('left').getAttribute('data-id');
    const right = await page.getByTestId('right').getAttribute('data-id');
    assert.ok(left && right && left !== right);
    await page.keyboard.press('ArrowRight');
    await page.getByTestId('compare-status').filter({ hasText: '1 comparisons' }).waitFor();
    await page.keyboard.press('ArrowLeft');
    await page.getByTestId('compare-status').filter({ hasText: '2 comparisons' }).waitFor();
    const { comparisons } = await api<{ comparisons: { aId: string; bId: string; winner: string }[] }>('/api/comparisons');
    assert.equal(comparisons.length, 2);
    const first = comparisons.at(-1)!; // newest first
    assert.deepEqual([first.aId, first.bId, first.winner], [left, right, 'b']);
    assert.equal(comparisons[0]!.winner, 'a');
  });

  test('image page: recipe and lineage; make again fills the form; a missing image is a clear error', async () => {
    const { images } = await api<{ images: Img[] }>('/api/images');
    await page.goto(`${server.url}/#/image/${images[0]!.id}`);
    await page.getByRole('heading', { name: 'Recipe' }).waitFor();
    await page.getByText('a red star').first().waitFor();
    await page.getByRole('button', { name: 'Make again' }).click();
    await page.waitForURL(/#\/generate$/);
    assert.equal(await page.getByLabel('Prompt', { exact: true }).inputValue(), 'a red star');
    assert.equal(await page.getByLabel('Lock seed').isChecked(), true);

    await page.goto(`${server.url}/#/image/img_00000000000000000000`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /image img_00000000000000000000 not found/);
  });

  test('generate: cancel stops a running job', async () => {
    await page.goto(`${server.url}/#/generate`);
    await page.getByLabel('Prompt', { exact: true }).fill('a long job');
    await page.getByLabel('Steps').fill('400');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page
      .getByTestId('job-status')
      .filter({ hasText: /^running/ })
      .waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page
      .getByTestId('job-status')
      .filter({ hasText: /^cancelled/ })
      .waitFor();
    const { jobs } = await api<{ jobs: { state: string }[] }>('/api/jobs');
    assert.equal(jobs[0]!.state, 'cancelled');
  });
});
