// The server's taste model over HTTP: comparisons recorded through /api/comparisons teach it, and
// /api/taste/rank puts the kind of image the user kept choosing first ("best of N"), learning more as
// new comparisons arrive. Real PNGs imported into a real library.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
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

/** A disc of the colour on white, its size varying with i. */
async function disc(rgb: [number, number, number], i: number): Promise<string> {
  const r = 10 + i * 4;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="white"/><circle cx="32" cy="32" r="${r}" fill="rgb(${rgb.join(',')})"/></svg>`;
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  const { status, json } = await post<{ id: string }>(`/api/images/import?fileName=d${i}.png`, new Uint8Array(png), 'image/png');
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
