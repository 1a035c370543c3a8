// Screenshots of each studio page for docs/studio/: a real `gesso serve` on a fresh data folder, a few
// images made with the shipped model, then each page in Debian's Chromium (laptop width; the library,
// explore, style and train pages also at tablet width; a tiny GAN trained on a small generated dataset for
// the Train page). Run: npm run docs:studio
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/server/serve.ts';
import { launchChromium } from '../test/helpers/browser.ts';
import { writeTinyDataset } from '../test/helpers/tiny-dataset.ts';

const out = join(import.meta.dirname, '../docs/studio');
mkdirSync(out, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'gesso-shots-'));
await writeTinyDataset(join(dir, 'datasets', 'shapes'), 24);
const server = await startServer({ dataDir: join(dir, 'studio'), port: 0, datasetFolders: [join(dir, 'datasets')] });
const browser = await launchChromium();
try {
  const post = (path: string, body: unknown) =>
    fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
  const prompts = ['a red star', 'a blue flower', 'a green tree', 'a yellow sun'];
  const jobs = [];
  for (const [i, prompt] of prompts.entries())
    jobs.push((await post('/api/generate', { prompt, steps: 15, seed: 100 + i * 10, batchSize: 3 })) as { id: string });
  for (const job of jobs) await server.studio.queue.waitFor(server.studio.users.local().id, job.id);
  const { images } = (await (await fetch(`${server.url}/api/images?limit=100`)).json()) as { images: { id: string }[] };
  for (const [i, im] of images.entries())
    if (i % 3 === 0)
      await fetch(`${server.url}/api/images/${im.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rating: 1 + (i % 5), favourite: i % 2 === 0 }),
      });

  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(180_000);
  await page.goto(`${server.url}/#/generate`);
  await page.getByLabel('Prompt', { exact: true }).fill('a red star, (bold outline:1.3), [background]');
  await page.getByLabel('Steps').fill('30');
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByTestId('preview').waitFor();
  await page.screenshot({ path: join(out, 'generate.png') });
  await page.getByTestId('job-status').filter({ hasText: /^done/ }).waitFor();

  await page.goto(`${server.url}/#/library`);
  await page.getByTestId('tile').first().click();
  await page.keyboard.press('ArrowRight');
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(out, 'library.png') });
  await page.setViewportSize({ width: 820, height: 1100 });
  await page.screenshot({ path: join(out, 'library-tablet.png') });
  await page.setViewportSize({ width: 1280, height: 800 });

  await page.goto(`${server.url}/#/compare`);
  await page.getByTestId('left').waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(out, 'compare.png') });

  await page.goto(`${server.url}/#/image/${images[0]!.id}`);
  await page.getByRole('heading', { name: 'Recipe' }).waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(out, 'image.png'), fullPage: true });

  // Generate with an init image and a painted inpainting mask.
  await page.getByRole('button', { name: 'Use as init' }).click();
  const canvas = page.getByTestId('mask-canvas');
  await canvas.waitFor();
  const box = (await canvas.boundingBox()) as { x: number; y: number; width: number; height: number };
  await page.getByLabel(/^Brush size/).fill('14');
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.3);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.7, { steps: 8 });
  await page.mouse.up();
  await page.screenshot({ path: join(out, 'generate-mask.png') });

  await page.goto(`${server.url}/#/explore`);
  await page.getByLabel('Count').fill('16');
  await page.getByRole('button', { name: 'Sample', exact: true }).click();
  await page.getByRole('heading', { name: '16 images' }).waitFor();
  const cells = page.getByRole('list', { name: 'Explored images' }).getByRole('listitem');
  await cells.nth(2).getByRole('button').first().click();
  await cells.nth(5).getByRole('button').first().click();
  await page.getByRole('button', { name: 'Keep seed 1', exact: true }).click();
  await page.getByRole('link', { name: 'in library' }).waitFor();
  await page.screenshot({ path: join(out, 'explore.png') });
  await page.getByRole('button', { name: 'Breed' }).click();
  await page.getByRole('heading', { name: '8 images' }).waitFor();
  await page.setViewportSize({ width: 820, height: 1100 });
  await page.screenshot({ path: join(out, 'explore-tablet.png') });
  await page.setViewportSize({ width: 1280, height: 800 });
  // The text-to-image model: a walk between two prompts and two seeds, with its WebP.
  await page.getByLabel('Model').selectOption('gesso-clipart-v1');
  await page.getByLabel('Frames').fill('6');
  await page.getByLabel('Steps').fill('15');
  await page.getByRole('button', { name: 'Walk' }).click();
  await page.getByRole('link', { name: 'Download WEBP' }).waitFor();
  await page.screenshot({ path: join(out, 'explore-diffusion.png') });

  await page.goto(`${server.url}/#/style`);
  await page.getByRole('radiogroup', { name: 'Content image' }).getByRole('radio').nth(3).check();
  await page.getByRole('radiogroup', { name: 'Style image' }).getByRole('radio').nth(7).check();
  await page.getByLabel('Size (px)').fill('128');
  await page.getByRole('button', { name: 'Stylise' }).click();
  await page.getByTestId('style-result').waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(out, 'style.png') });
  await page.setViewportSize({ width: 820, height: 1100 });
  await page.screenshot({ path: join(out, 'style-tablet.png') });
  await page.setViewportSize({ width: 1280, height: 800 });

  await page.goto(`${server.url}/#/train`);
  await page.getByRole('button', { name: 'Register shapes' }).click();
  await page.getByLabel('Name').fill('shapes-gan');
  await page.getByLabel('Steps').fill('30');
  await page.getByLabel('Batch').fill('4');
  await page.getByLabel(/Tiny network/).check();
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.getByTestId('run-status').filter({ hasText: /done/ }).waitFor({ timeout: 900_000 });
  await page.getByTestId('sample-grid').waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(out, 'train.png') });
  await page.setViewportSize({ width: 820, height: 1100 });
  await page.screenshot({ path: join(out, 'train-tablet.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  await page.goto(`${server.url}/#/models`);
  await page.getByRole('heading', { name: /^gesso-gan-stars-fruit-64/ }).waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(out, 'models.png') });
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
