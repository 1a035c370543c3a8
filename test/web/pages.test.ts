// The studio's Explore, Style, Train and Models pages and Generate's mask painting, in Debian's Chromium
// against a real `gesso serve` with the shipped models (tiny sizes and steps: little CPU).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { DEFAULT_MODEL_ID, SHIPPED_MODELS_FOLDER } from '../../src/server/models.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { launchChromium } from '../helpers/browser.ts';
import { writeRandomLora } from '../helpers/random-lora.ts';
import { writeTinyDataset } from '../helpers/tiny-dataset.ts';

let server: RunningServer;
let browser: Browser;
let page: Page;
let dir: string;

async function api<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(server.url + path, {
    ...(body !== undefined ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  return (await res.json()) as T;
}

type Img = { id: string; prompt: string; recipe: Record<string, unknown> | null; parentSha256: string | null };

describe('studio pages in Chromium', { timeout: 900_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-web-pages-'));
    await writeTinyDataset(join(dir, 'datasets', 'shapes'));
    server = await startServer({ dataDir: join(dir, 'studio'), port: 0, datasetFolders: [join(dir, 'datasets')] });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(180_000);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('explore: sample a GAN, pick two, walk (WebP download), move a gene slider, breed, keep one into the library', async () => {
    await page.goto(`${server.url}/#/explore`);
    await page.waitForFunction("(document.querySelector('select')?.value ?? '').includes('gan')"); // the GAN is chosen first
    await page.getByLabel('Count').fill('4');
    await page.getByRole('button', { name: 'Sample', exact: true }).click();
    await page.getByRole('heading', { name: '4 images' }).waitFor();
    const cells = page.getByRole('list', { name: 'Explored images' }).getByRole('listitem');
    await cells.nth(0).getByRole('button', { name: 'seed 1', exact: true }).click();
    await cells.nth(1).getByRole('button', { name: 'seed 2', exact: true }).click();
    assert.equal(await page.getByRole('button', { pressed: true }).count(), 2);

    await page.getByLabel('Frames per step').fill('3');
    await page.getByRole('button', { name: 'Walk' }).click();
    const download = page.getByRole('link', { name: 'Download WEBP' });
    await download.waitFor();
    assert.match((await download.getAttribute('href')) ?? '', /^data:image\/webp;base64,UklGR/);
    assert.equal(await download.getAttribute('download'), 'gesso-walk.webp');

    // Genes of pick 1: a slider re-renders it moved along pc1.
    await page.getByLabel(/^pc1/).fill('2');
    await page.getByRole('heading', { name: '1 images' }).waitFor();
    const moved = page.getByRole('list', { name: 'Explored images' }).getByRole('img');
    assert.match((await moved.getAttribute('alt')) ?? '', /seed 1 pc1\+2\.00/);

    await page.getByLabel('Children').fill('3');
    await page.getByRole('button', { name: 'Breed' }).click();
    await page.getByRole('heading', { name: '3 images' }).waitFor();
    await page
      .getByRole('button', { name: /^Keep breed/ })
      .first()
      .click();
    await page.getByRole('link', { name: 'in library' }).waitFor();
    const { images } = await api<{ images: Img[] }>('/api/images');
    assert.equal(images.length, 1);
    assert.equal((images[0]?.recipe as { format?: string } | null)?.format, 'gesso.explore', 'the kept PNG carries its explore recipe');
  });

  test('style: content and style from the library, adain at strength 0.7, the result lands in the library', async () => {
    const job = await api<{ id: string }>('/api/generate', { prompt: 'a red star', steps: 4, seed: 3, batchSize: 2 });
    await server.studio.queue.waitFor(server.studio.users.local().id, job.id);
    await page.goto(`${server.url}/#/style`);
    // A server error is shown: adain without a style image is refused before the job is queued.
    await page.getByRole('radiogroup', { name: 'Content image' }).getByRole('radio').first().check();
    await page.getByRole('button', { name: 'Stylise' }).click();
    await page.getByRole('alert').filter({ hasText: 'needs a style image' }).waitFor();
    await page.getByRole('radiogroup', { name: 'Style image' }).getByRole('radio').nth(1).check();
    await page.getByLabel(/^Strength/).fill('0.7');
    await page.getByLabel('Size (px)').fill('64');
    await page.getByRole('button', { name: 'Stylise' }).click();
    await page.getByTestId('style-result').waitFor();
    const { images } = await api<{ images: Img[] }>('/api/images');
    const styled = images[0] as Img;
    assert.equal((styled.recipe as { format: string; settings: { strength: number } }).format, 'gesso.style');
    assert.equal((styled.recipe as { settings: { strength: number } }).settings.strength, 0.7);
    assert.ok(styled.parentSha256, 'the content image is its parent');
  });

  test('train: register a dataset (licences shown), train a tiny GAN with a live loss curve and sample grids; it appears on Models', async () => {
    await page.goto(`${server.url}/#/train`);
    await page.getByRole('button', { name: 'Register shapes' }).click();
    await page.getByRole('cell', { name: 'CC0-1.0: 16' }).waitFor();
    // A server error reaches the user: the name is taken by an installed model.
    await page.getByLabel('Name').fill('gesso-clipart-v1');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByRole('alert').filter({ hasText: 'a model named gesso-clipart-v1 already exists' }).waitFor();
    await page.getByRole('button', { name: 'Dismiss error' }).click();

    await page.getByLabel('Name').fill('shapes-gan');
    await page.getByLabel('Steps').fill('4');
    await page.getByLabel('Batch').fill('2');
    await page.getByLabel(/Tiny network/).check();
    await page.getByRole('button', { name: 'Start training' }).click();
    await page
      .getByTestId('run-status')
      .filter({ hasText: /^shapes-gan: done, step 4\/4/ })
      .waitFor({ timeout: 300_000 });
    const chart = page.getByTestId('loss-chart');
    assert.match((await chart.getAttribute('aria-label')) ?? '', /step 4: d_loss -?\d/);
    await page.getByTestId('sample-grid').waitFor();
    assert.match((await page.getByTestId('sample-grid').getAttribute('alt')) ?? '', /step 4/);

    await page.goto(`${server.url}/#/models`);
    await page.getByRole('heading', { name: /^shapes-gan/ }).waitFor();
  });

  test('train: Stop cancels the running job, Resume queues the run again from its checkpoint', async () => {
    const { registered } = await api<{ registered: { id: string }[] }>('/api/datasets');
    if (!registered.some((d) => d.id === 'shapes')) await api('/api/datasets', { id: 'shapes' }); // when run on its own
    await page.goto(`${server.url}/#/train`);
    await page.getByLabel('Name').fill('long-gan');
    await page.getByLabel('Steps').fill('100000');
    await page.getByLabel('Batch').fill('2');
    await page.getByLabel(/Tiny network/).check();
    await page.getByRole('button', { name: 'Start training' }).click();
    const status = page.getByTestId('run-status');
    await status.filter({ hasText: /^long-gan: running, step [1-9]/ }).waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await status.filter({ hasText: /^long-gan: cancelled/ }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await status.filter({ hasText: /^long-gan: (queued|running)/ }).waitFor();
    const { runs } = await api<{ runs: { name: string; jobId: string }[] }>('/api/train/runs');
    const run = runs.find((r) => r.name === 'long-gan');
    assert.ok(run);
    await page.getByRole('button', { name: 'Stop' }).click();
    await status.filter({ hasText: /^long-gan: cancelled/ }).waitFor();
    const jobs = await api<{ jobs: { kind: string; state: string }[] }>('/api/jobs?limit=5');
    assert.deepEqual(
      jobs.jobs
        .filter((j) => j.kind === 'train')
        .map((j) => j.state)
        .slice(0, 2),
      ['cancelled', 'cancelled'],
      'two legs of the run, both stopped',
    );
  });

  test('models: every installed model with its card, data licences and pictures', async () => {
    await page.goto(`${server.url}/#/models`);
    await page.getByRole('heading', { name: /^gesso-gan-stars-fruit-64/ }).waitFor();
    assert.ok((await page.getByTestId('model-card').count()) >= 5);
    const gan = page.getByRole('article', { name: /gesso-gan-stars-fruit-64/ });
    await gan.getByText('CC0-1.0: 300 files').waitFor();
    const samples = gan.getByRole('img', { name: 'gesso-gan-stars-fruit-64: samples.png' });
    await samples.waitFor();
    assert.equal(await samples.getAttribute('src'), '/api/models/gesso-gan-stars-fruit-64/files/samples.png');
    await gan.getByText('Model card').click();
    await gan.getByRole('cell', { name: 'training images' }).waitFor();
  });

  test('generate: upload a PNG as the init image (no library image needed) and run img2img from it', async () => {
    const upload = join(dir, 'my-drawing.png');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 30, g: 160, b: 60 } } })
      .png()
      .toFile(upload);
    await page.goto(`${server.url}/#/generate`);
    await page.getByText('Start from an image').click();
    await page.getByLabel('Upload PNG').setInputFiles(upload);
    await page.getByText('(img2img)').waitFor();
    await page.getByLabel('Prompt', { exact: true }).fill('a green leaf');
    await page.getByLabel('Steps').fill('3');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByTestId('job-status').filter({ hasText: /^done/ }).waitFor();
    const made = await api<{ images: Img[] }>('/api/images?q=green%20leaf');
    assert.equal((made.images[0]?.recipe as { mode?: string } | null)?.mode, 'img2img');
    assert.ok(made.images[0]?.parentSha256, 'the uploaded image is recorded as the parent');
  });

  test('generate: pick a LoRA with a weight; the recipe records its name, hash and weight; make again keeps it', async () => {
    const loraDir = join(dir, 'studio', 'loras'); // the studio's own LoRA folder, where Train page LoRAs are installed
    mkdirSync(loraDir, { recursive: true });
    const file = join(loraDir, 'bold-lines.safetensors');
    writeRandomLora(file, join(SHIPPED_MODELS_FOLDER, DEFAULT_MODEL_ID), 7, 0.05); // the Generate page's default model
    await page.goto(`${server.url}/#/generate`);
    await page.reload(); // a fresh form (the page may still hold the last test's init image) that lists the new file
    await page.getByLabel('Add a LoRA').selectOption('bold-lines');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByLabel('Weight of bold-lines').fill('0.6');
    await page.getByLabel('Prompt', { exact: true }).fill('a purple kite');
    await page.getByLabel('Steps').fill('3');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByTestId('job-status').filter({ hasText: /^done/ }).waitFor();
    const made = await api<{ images: Img[] }>('/api/images?q=purple%20kite');
    const loras = (made.images[0]?.recipe as { loras?: { name: string; sha256: string; weight: number }[] } | null)?.loras ?? [];
    assert.deepEqual(
      loras.map((l) => [l.name, l.weight, l.sha256]),
      [['bold-lines', 0.6, createHash('sha256').update(readFileSync(file)).digest('hex')]],
    );
    // The image page's "make again" brings the LoRA back into the form.
    await page.goto(`${server.url}/#/image/${made.images[0]?.id}`);
    await page.getByRole('button', { name: /make again/i }).click();
    await page.waitForURL(/#\/generate$/);
    assert.equal(await page.getByLabel('Weight of bold-lines').inputValue(), '0.6');
    await page.getByRole('button', { name: 'Remove bold-lines' }).click();
    await page.getByText('None chosen.').waitFor();
  });

  test('generate: paint a mask over the init image and inpaint it', async () => {
    const { images } = await api<{ images: Img[] }>('/api/images?q=red%20star');
    await page.goto(`${server.url}/#/image/${images[0]?.id}`);
    await page.getByRole('button', { name: /use as init/i }).click();
    await page.waitForURL(/#\/generate$/);
    const canvas = page.getByTestId('mask-canvas');
    await canvas.waitFor();
    const box = (await canvas.boundingBox()) as { x: number; y: number; width: number; height: number };
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.up();
    await page.getByText('inpainting the painted area').waitFor();
    await page.getByLabel('Prompt', { exact: true }).fill('a blue moon');
    await page.getByLabel('Steps').fill('4');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByTestId('job-status').filter({ hasText: /^done/ }).waitFor();
    const after = await api<{ images: Img[] }>('/api/images?q=blue%20moon');
    assert.equal((after.images[0]?.recipe as { mode?: string } | null)?.mode, 'inpaint');
    // Clear empties the mask: the next job is img2img again.
    await page.getByRole('button', { name: 'Clear mask' }).click();
    await page.getByText('(img2img)').waitFor();
  });
});
