// The server's taste model over HTTP: comparisons recorded through /api/comparisons teach it, and
// /api/taste/rank puts the kind of image the user kept choosing first ("best of N"), learning more as
// new comparisons arrive. Real PNGs imported into a real library.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { insertTextChunks } from '../../src/image/png-chunks.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';

let server: RunningServer;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gesso-taste-api-'));
  server = await startServer({ dataDir: dir, port: 0 });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post<T>(path: string, body: unknown, type = 'application/json'): Promise<{ status: number; json: T }> {
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': type },
    body: type === 'application/json' ? JSON.stringify(body) : (body as Uint8Array),
  });
  return { status: res.status, json: (await res.json()) as T };
}

/** A disc of the colour on white, its size varying with i; with A1111 parameters when a prompt is given. */
async function disc(rgb: [number, number, number], i: number, prompt?: string): Promise<string> {
  const r = 10 + i * 4;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="white"/><circle cx="32" cy="32" r="${r}" fill="rgb(${rgb.join(',')})"/></svg>`;
  let png: Uint8Array = new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer());
  if (prompt) png = insertTextChunks(png, [{ keyword: 'parameters', text: `${prompt}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: ${i}, Size: 64x64` }]);
  const { status, json } = await post<{ id: string }>(`/api/images/import?fileName=d${i}.png`, png, 'image/png');
  assert.equal(status, 201);
  return json.id;
}

test('comparisons teach the taste model; rank puts the preferred kind first', async () => {
  const warm = [await disc([230, 80, 20], 0), await disc([240, 160, 30], 1), await disc([200, 40, 40], 2), await disc([250, 120, 60], 3)];
  const cool = [await disc([20, 80, 230], 0), await disc([40, 160, 220], 1), await disc([60, 40, 200], 2), await disc([30, 120, 250], 3)];
  // The user always picks the warm one, whichever side it is on.
  for (let i = 0; i < 12; i++) {
    const w = warm[i % 4]!;
    const c = cool[(i * 3) % 4]!;
    const [a, b, winner] = i % 2 ? [w, c, 'a'] : [c, w, 'b'];
    assert.equal((await post('/api/comparisons', { a, b, winner })).status, 201);
  }
  const { status, json } = await post<{ ranked: { id: string }[]; judgements: number }>('/api/taste/rank', { imageIds: [...cool, ...warm], k: 4 });
  assert.equal(status, 200);
  assert.equal(json.judgements, 12);
  assert.deepEqual(new Set(json.ranked.map((r) => r.id)), new Set(warm), 'the best 4 of 8 are the warm ones');

  // A new comparison is learnt on the next ranking; a bad id is a clear error.
  assert.equal((await post('/api/comparisons', { a: warm[0], b: cool[0], winner: 'a' })).status, 201);
  const again = await post<{ judgements: number }>('/api/taste/rank', { imageIds: warm });
  assert.equal(again.json.judgements, 13);
  const bad = await post<{ error: string }>('/api/taste/rank', { imageIds: ['img_ffffffffffffffffffff'] });
  assert.equal(bad.status, 404);
  assert.match(bad.json.error, /img_ffffffffffffffffffff not found/);
});

test('why names the comparisons that drove a score; suggest proposes the settings whose images score best', async () => {
  const warm = [await disc([235, 90, 10], 5, 'an orange sun'), await disc([245, 140, 20], 6, 'an orange sun')];
  const cool = [await disc([10, 90, 235], 5, 'a blue sea'), await disc([20, 140, 245], 6, 'a blue sea')];
  const rated = await disc([120, 120, 120], 7, 'a grey rock');
  // Ratings teach it too: the warm one rated above the grey one.
  await fetch(`${server.url}/api/images/${warm[0]}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rating: 5 }) });
  await fetch(`${server.url}/api/images/${rated}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rating: 1 }) });
  for (let i = 0; i < 4; i++) assert.equal((await post('/api/comparisons', { a: warm[i % 2], b: cool[(i + 1) % 2], winner: 'a' })).status, 201);

  const res = await fetch(`${server.url}/api/taste/why/${warm[1]}?k=3`);
  assert.equal(res.status, 200);
  const why = (await res.json()) as {
    score: number;
    judgements: number;
    influences: { kind: string; winnerId: string; loserId: string; contribution: number }[];
    features: { name: string }[];
  };
  assert.equal(why.influences.length, 3);
  assert.ok(why.judgements >= 18, `comparisons and the rating pair: ${why.judgements}`);
  assert.ok(why.influences.every((i) => i.kind === 'comparison' || i.kind === 'ratings'));
  // What holds a warm image up: choices of a warm image over a cool one.
  const top = why.influences[0]!;
  assert.ok(top.contribution > 0, JSON.stringify(why.influences));
  assert.ok(!cool.includes(top.winnerId) && !warm.includes(top.loserId), JSON.stringify(top));
  assert.equal(why.features.length, 5);

  const suggested = await post<{ suggestions: { prompt: string; cfgScale: number; seeds: number[]; why: string }[] }>('/api/taste/suggest', { count: 3 });
  assert.equal(suggested.status, 200);
  assert.equal(suggested.json.suggestions[0]?.prompt, 'an orange sun', JSON.stringify(suggested.json.suggestions));
  assert.equal(suggested.json.suggestions[0]?.cfgScale, 7);
  assert.deepEqual(suggested.json.suggestions[0]?.seeds, [7, 8, 9, 10]);
  assert.match(suggested.json.suggestions[0]?.why ?? '', /2 images made with these settings/);
  const missing = await fetch(`${server.url}/api/taste/why/img_ffffffffffffffffffff`);
  assert.equal(missing.status, 404);
});
