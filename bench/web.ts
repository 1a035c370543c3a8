/**
 * `npm run bench:web [-- --quick]`: the web studio's weight and speed.
 *   1. JS and CSS bundle sizes (raw and gzip level 9) of web/dist (built by `npm run build:web`).
 *   2. The Library page with 10,000 images (synthetic rows pointing at one real 256 px PNG) loaded cold in
 *      Debian's Chromium: first tile painted, and time to interactive in Lighthouse's sense (the end of the
 *      last long task (>50 ms, PerformanceObserver 'longtask') before a 1 s quiet window after the first
 *      tile), medians of rounds, each in a fresh browser context (empty cache); tiles in the DOM after
 *      scrolling 2,000 images deep (the grid is virtualised: it should stay near a screenful).
 * No peer: there is no other gesso studio UI to run; the numbers stand against the 10k-image target.
 * Writes the `web` section of BENCHMARKS.md; the last line is one JSON object.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { startServer } from '../src/server/serve.ts';
import { WEB_DIST } from '../src/server/web-routes.ts';
import { launchChromium } from '../test/helpers/browser.ts';
import { writeSection } from './lib/benchmarks-md.ts';
import { currentLoad } from './lib/machine.ts';
import { median } from './lib/rounds.ts';
import { fillLibrary } from './lib/synthetic-library.ts';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 3 : 7;
const IMAGES = 10_000;
const loadBefore = currentLoad();

// 1. Bundle sizes.
const assets = join(WEB_DIST, 'assets');
const files = readdirSync(assets).filter((f) => f.endsWith('.js') || f.endsWith('.css'));
const size = (pick: (file: string) => boolean) => {
  const bytes = files.filter(pick).map((f) => readFileSync(join(assets, f)));
  return { raw: bytes.reduce((s, b) => s + b.length, 0), gzip: bytes.reduce((s, b) => s + gzipSync(b, { level: 9 }).length, 0) };
};
// The entry chunk loads on every page; other chunks (the Board page with Yjs; Explore, Style, Train, Models) load when opened.
const js = size((f) => f.startsWith('index-') && f.endsWith('.js'));
const lazyJs = size((f) => !f.startsWith('index-') && f.endsWith('.js'));
const css = size((f) => f.endsWith('.css'));

// 2. Library page at 10k images.
const dir = mkdtempSync(join(tmpdir(), 'gesso-bench-web-'));
const server = await startServer({ dataDir: dir, port: 0 });
const browser = await launchChromium();
const firstTile: number[] = [];
const tti: number[] = [];
let tilesInDom = 0;
let loaded = 0;
try {
  const user = server.studio.users.local();
  fillLibrary(server.studio.db, user.id, IMAGES);
  const png = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 200, g: 90, b: 40 } } })
    .png()
    .toBuffer();
  const sha = await server.studio.library.store.put(new Uint8Array(png));
  server.studio.db.prepare('UPDATE images SET sha256 = ?').run(sha);

  for (let round = 0; round < ROUNDS; round++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Long tasks, recorded from the first script on the page.
    await context.addInitScript({
      content:
        "window.__longTasks = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push(e.startTime + e.duration); }).observe({ type: 'longtask', buffered: true });",
    });
    const page = await context.newPage();
    await page.goto(`${server.url}/#/library`);
    await page.waitForSelector('[data-testid=tile]');
    const painted = (await page.evaluate('performance.now()')) as number;
    await page.waitForTimeout(1000);
    const longTasks = (await page.evaluate('window.__longTasks')) as number[];
    firstTile.push(painted);
    tti.push(Math.max(painted, ...longTasks.filter((t) => t <= painted + 1000)));
    if (round === 0) {
      // Scroll 2,000 images deep (pages load as the grid nears its end) and count the tiles in the DOM.
      for (let i = 0; i < 60 && loaded < 2000; i++) {
        await page.evaluate("document.querySelector('.vgrid').scrollTop = 1e9");
        await page.waitForTimeout(150);
        loaded = Number(((await page.getByText(/\d+\+? images/).textContent()) ?? '0').replace(/\D/g, ''));
      }
      tilesInDom = await page.getByTestId('tile').count();
    }
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

const load = `${loadBefore.toFixed(1)} → ${currentLoad().toFixed(1)}`;
const result = {
  bench: 'web',
  jsBytes: js.raw,
  jsGzipBytes: js.gzip,
  lazyJsGzipBytes: lazyJs.gzip,
  cssGzipBytes: css.gzip,
  libraryImages: IMAGES,
  firstTileMs: Math.round(median(firstTile)),
  ttiMs: Math.round(median(tti)),
  rounds: ROUNDS,
  tilesInDomAfterScroll: tilesInDom,
  imagesLoadedAfterScroll: loaded,
  loadAverage: load,
};
const body = `## Web studio (\`npm run bench:web\`)

Bundle (web/dist, Vite 8 production build, React 19): entry JS ${(js.raw / 1024).toFixed(1)} KiB, **${(js.gzip / 1024).toFixed(1)} KiB gzip** (every page);
chunks loaded on demand (the Board page with Yjs; Explore, Style, Train, Models) ${(lazyJs.gzip / 1024).toFixed(1)} KiB gzip; CSS ${(css.gzip / 1024).toFixed(1)} KiB gzip.

Library page with ${IMAGES.toLocaleString('en')} images, cold load in Debian Chromium (headless, 1280×800, fresh context each round), median of ${ROUNDS}:

| measurement | result |
| --- | --- |
| first tile painted (from navigation start) | ${result.firstTileMs} ms |
| time to interactive (end of last long task before a 1 s quiet window) | ${result.ttiMs} ms |
| tiles in the DOM after scrolling ${loaded.toLocaleString('en')} images deep | ${tilesInDom} |

The grid pages 200 images at a time as it scrolls and renders only the rows in view (plus 3 above and below).
No peer is run (there is no other studio UI to compare); load average ${load} on a shared 2-core machine.
`;
if (!process.argv.includes('--no-write')) writeSection(join(import.meta.dirname, '../BENCHMARKS.md'), 'web', body);
console.log(body);
console.log(JSON.stringify(result));
