// The server routes behind the studio's Explore, Style, Train and Models pages, against a real server with
// the shipped models: GAN samples, walks (with a WebP animation) and breeding; diffusion walks; AdaIN
// style into the library; the model catalog with cards; a tiny GAN trained on a registered dataset,
// stopped and resumed, its loss lines and sample grids served, the finished model installed and explorable.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { writeTinyDataset } from '../helpers/tiny-dataset.ts';

let server: RunningServer;
let dir: string;

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(server.url + path, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as T };
}

type Job = { id: string; state: string; error: string | null; result: Record<string, unknown> | null; progress: Record<string, unknown> | null };
const wait = (id: string) => server.studio.queue.waitFor(server.studio.users.local().id, id, 300_000);

describe('studio pages API', { timeout: 600_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-pages-api-'));
    await writeTinyDataset(join(dir, 'datasets', 'shapes'));
    await writeTinyDataset(join(dir, 'datasets', 'scraped'), 4, 64, 'unknown');
    server = await startServer({ dataDir: join(dir, 'studio'), port: 0, datasetFolders: [join(dir, 'datasets')] });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('model catalog: every kind with its card, pictures served by name only', async () => {
    const { json } = await call<{ models: { id: string; kind: string; card: string | null; genes: string[]; pictures: string[]; licences: unknown }[] }>(
      'GET',
      '/api/models/catalog',
    );
    const byId = new Map(json.models.map((m) => [m.id, m]));
    assert.equal(byId.get('gesso-clipart-v1')?.kind, 'diffusion');
    assert.equal(byId.get('gesso-gan-stars-fruit-64')?.kind, 'gan');
    assert.equal(byId.get('gesso-adain-v1')?.kind, 'style-adain');
    assert.equal(byId.get('gesso-fast-leopard')?.kind, 'style-fast');
    const gan = byId.get('gesso-gan-stars-fruit-64');
    assert.ok(gan?.card?.includes('GAN generator'));
    assert.equal(gan?.genes[0], 'pc1');
    assert.deepEqual(gan?.licences, { 'CC0-1.0': 300 });
    assert.ok(gan?.pictures.includes('samples.png'));
    const png = await fetch(`${server.url}/api/models/gesso-gan-stars-fruit-64/files/samples.png`);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.equal((await fetch(`${server.url}/api/models/gesso-gan-stars-fruit-64/files/..%2Fgan.json`)).status, 404);
    assert.equal((await fetch(`${server.url}/api/models/gesso-gan-stars-fruit-64/files/gan.json`)).status, 404);
  });

  test('explore: GAN samples, a looping walk with a WebP, breeding; a bad spec is a 400 naming it', async () => {
    const model = 'gesso-gan-stars-fruit-64';
    const samples = await call<Job>('POST', '/api/explore', { model, mode: 'samples', seeds: [1, 2, 3] });
    assert.equal(samples.status, 202);
    const s = await wait(samples.json.id);
    assert.equal(s.state, 'done', s.error ?? '');
    const images = (s.result as { images: { png: string; spec: { op: string; seed: number }; label: string }[] }).images;
    assert.deepEqual(
      images.map((i) => i.spec.seed),
      [1, 2, 3],
    );
    assert.equal(images[0]?.label, 'seed 1');
    assert.notEqual(images[0]?.png, images[1]?.png);

    const walk = await call<Job>('POST', '/api/explore', { model, mode: 'walk', keys: [images[0]?.spec, images[1]?.spec], frames: 4, animation: 'webp' });
    const w = await wait(walk.json.id);
    const wr = w.result as { images: unknown[]; animation: { format: string; data: string } };
    assert.equal(wr.images.length, 6, 'two segments of 4 frames, joints once, looping');
    assert.equal(wr.animation.format, 'webp');
    assert.equal(Buffer.from(wr.animation.data, 'base64').subarray(8, 12).toString(), 'WEBP');

    const breed = await call<Job>('POST', '/api/explore', {
      model,
      mode: 'breed',
      parents: [images[0]?.spec, images[2]?.spec],
      children: 3,
      seed: 5,
      rate: 0.3,
    });
    const b = await wait(breed.json.id);
    const children = (b.result as { images: { spec: { op: string; seed: number } }[] }).images;
    assert.deepEqual(
      children.map((c) => [c.spec.op, c.spec.seed]),
      [
        ['breed', 5],
        ['breed', 6],
        ['breed', 7],
      ],
    );

    const bad = await call<{ error: string }>('POST', '/api/explore', {
      model,
      mode: 'walk',
      keys: [
        { op: 'seed', seed: -1 },
        { op: 'seed', seed: 2 },
      ],
    });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /keys\[0\]\.seed -1/);
    const wrongKind = await call<{ error: string }>('POST', '/api/explore', { model: 'gesso-clipart-v1', mode: 'samples', seeds: [1] });
    assert.equal(wrongKind.status, 400);
    assert.match(wrongKind.json.error, /is a diffusion model; expected gan/);
  });

  test('explore: a diffusion walk between two prompts and two seeds', async () => {
    const res = await call<Job>('POST', '/api/explore', {
      model: 'gesso-clipart-v1',
      mode: 'diffusion-walk',
      prompts: ['a red star', 'a blue flower'],
      noiseSeeds: [1, 2],
      frames: 2,
      steps: 4,
    });
    const job = await wait(res.json.id);
    assert.equal(job.state, 'done', job.error ?? '');
    const images = (job.result as { images: { spec: { noise: { t: number }; prompt: { prompts: { weight: number }[] } } }[] }).images;
    assert.equal(images.length, 2);
    assert.equal(images[1]?.spec.noise.t, 1);
    assert.equal(images[1]?.spec.prompt.prompts[1]?.weight, 1);
  });

  test('style: adain on two library images lands in the library with the content as parent', async () => {
    const gen = await call<Job>('POST', '/api/generate', { prompt: 'a red star', steps: 4, seed: 1, batchSize: 2 });
    const done = await wait(gen.json.id);
    const [content, style] = (done.result as { imageIds: string[] }).imageIds as [string, string];
    const missing = await call<{ error: string; param: string }>('POST', '/api/style', { method: 'adain', contentImageId: content });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.param, 'styleImageId');
    const res = await call<Job>('POST', '/api/style', { method: 'adain', contentImageId: content, styleImageId: style, strength: 0.8, size: 64 });
    assert.equal(res.status, 202);
    const job = await wait(res.json.id);
    assert.equal(job.state, 'done', job.error ?? '');
    const [id] = (job.result as { imageIds: string[] }).imageIds;
    const image = (await call<{ parentSha256: string; recipe: { format: string; method: string; settings: { model: string } } }>('GET', `/api/images/${id}`))
      .json;
    const contentRecord = (await call<{ sha256: string }>('GET', `/api/images/${content}`)).json;
    assert.equal(image.parentSha256, contentRecord.sha256);
    assert.equal(image.recipe.format, 'gesso.style');
    assert.equal(image.recipe.settings.model, 'gesso-adain-v1', 'the recipe names the model by id, not by server path');
  });

  test('train: a tiny GAN on a registered dataset — loss lines and samples as it runs, stop, resume, installed and explorable', async () => {
    // Enough steps that the stop (sent once step 2 is logged; the job polls the log every 500 ms) lands
    // while the first leg is still training, so the resumed leg has work to do.
    const STEPS = 40;
    const unregistered = await call<{ error: string }>('POST', '/api/train/runs', { type: 'gan', dataset: 'shapes', name: 'my-gan' });
    assert.equal(unregistered.status, 404);
    assert.equal((await call('POST', '/api/datasets', { id: 'shapes' })).status, 201);
    const start = await call<{ run: { id: string }; job: Job }>('POST', '/api/train/runs', {
      type: 'gan',
      dataset: 'shapes',
      name: 'my-gan',
      steps: STEPS,
      batch: 2,
      tiny: true,
      sampleEvery: 2,
      checkpointEvery: 2,
    });
    assert.equal(start.status, 202);
    const runId = start.json.run.id;
    // Stop once the first checkpoint (step 2) is written, then resume to the end.
    const userId = server.studio.users.local().id;
    await new Promise<void>((resolve) => {
      const onProgress = (job: { id: string }, p: { step: number }) => {
        if (job.id === start.json.job.id && p.step >= 2) {
          server.studio.queue.events.off('progress', onProgress);
          resolve();
        }
      };
      server.studio.queue.events.on('progress', onProgress);
    });
    const stopped = await call<{ state: string }>('POST', `/api/train/runs/${runId}/stop`);
    assert.equal(stopped.json.state, 'cancelled');
    const resumed = await call<{ job: Job }>('POST', `/api/train/runs/${runId}/resume`);
    assert.equal(resumed.status, 202);
    const final = await server.studio.queue.waitFor(userId, resumed.json.job.id, 300_000);
    assert.equal(final.state, 'done', final.error ?? '');
    const run = (
      await call<{ state: string; history: { step: number; d_loss: number; g_loss: number }[]; samples: number[] }>('GET', `/api/train/runs/${runId}`)
    ).json;
    assert.equal(run.state, 'done');
    assert.deepEqual(
      run.history.map((h) => h.step),
      Array.from({ length: STEPS }, (_, i) => i + 1),
      'the resumed leg continues from the checkpoint: each step once',
    );
    assert.ok(run.history.every((h) => Number.isFinite(h.d_loss) && Number.isFinite(h.g_loss)));
    assert.ok(run.samples.includes(0) && run.samples.includes(STEPS));
    const grid = await fetch(`${server.url}/api/train/runs/${runId}/samples/${STEPS}`);
    assert.equal(grid.headers.get('content-type'), 'image/png');
    const catalog = (await call<{ models: { id: string; kind: string; licences: unknown }[] }>('GET', '/api/models/catalog')).json;
    const mine = catalog.models.find((m) => m.id === 'my-gan');
    assert.equal(mine?.kind, 'gan');
    const ex = await call<Job>('POST', '/api/explore', { model: 'my-gan', mode: 'samples', seeds: [1] });
    assert.equal((await wait(ex.json.id)).state, 'done');
    const again = await call<{ error: string; param: string }>('POST', '/api/train/runs', { type: 'gan', dataset: 'shapes', name: 'my-gan' });
    assert.equal(again.status, 400);
    assert.equal(again.json.param, 'name');
  });

  test('train: a fast style network (2 steps) is installed as a model, and the Style route runs it', async () => {
    const gen = await call<Job>('POST', '/api/generate', { prompt: 'a blue flower', steps: 2, seed: 4 });
    const [styleImageId] = ((await wait(gen.json.id)).result as { imageIds: string[] }).imageIds as [string];
    const noImage = await call<{ param: string }>('POST', '/api/train/runs', { type: 'style', dataset: 'shapes', name: 'my-style' });
    assert.equal(noImage.json.param, 'styleImageId');
    const start = await call<{ run: { id: string }; job: Job }>('POST', '/api/train/runs', {
      type: 'style',
      dataset: 'shapes',
      name: 'my-style',
      steps: 2,
      batch: 1,
      size: 32,
      styleImageId,
    });
    assert.equal(start.status, 202);
    const job = await wait(start.json.job.id);
    assert.equal(job.state, 'done', job.error ?? '');
    const run = (
      await call<{ history: { step: number; loss: number; style_loss: number }[]; samples: number[] }>('GET', `/api/train/runs/${start.json.run.id}`)
    ).json;
    assert.deepEqual(
      run.history.map((h) => h.step),
      [1, 2],
    );
    assert.ok(run.history.every((h) => Number.isFinite(h.loss) && Number.isFinite(h.style_loss)));
    assert.ok(run.samples.includes(2));
    const styled = await call<Job>('POST', '/api/style', { method: 'fast', model: 'my-style', contentImageId: styleImageId, size: 32 });
    assert.equal(styled.status, 202);
    assert.equal((await wait(styled.json.id)).state, 'done');
  });

  test('train: a dataset with unknown licences needs a decision, and "exclude" is refused (the trainers read the whole folder)', async () => {
    assert.equal((await call('POST', '/api/datasets', { id: 'scraped' })).status, 201);
    const body = { type: 'gan', dataset: 'scraped', name: 'scraped-gan', steps: 1, tiny: true };
    const undecided = await call<{ error: string; param: string }>('POST', '/api/train/runs', body);
    assert.equal(undecided.status, 400);
    assert.match(undecided.json.error, /4 unknown licences and no decision/);
    await call('POST', '/api/datasets/scraped/decision', { decision: 'exclude' });
    const excluded = await call<{ error: string }>('POST', '/api/train/runs', body);
    assert.equal(excluded.status, 400);
    assert.match(excluded.json.error, /to be excluded/);
  });
});
