// Screenshots of each studio page for docs/studio/: a real `gesso serve` on a fresh data folder, a few
// images made with the shipped model, then each page in Debian's Chromium (laptop width; the library also
// at tablet width). Run: npm run docs:studio
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/server/serve.ts';
import { launchChromium } from '../test/helpers/browser.ts';

const out = join(import.meta.dirname, '../docs/studio');
mkdirSync(out, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'gesso-shots-'));
const server = await startServer({ dataDir: dir, port: 0 });
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
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
