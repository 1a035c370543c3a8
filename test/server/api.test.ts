// `gesso serve` end to end on a fresh data folder: generate through each API (gesso REST, A1111, the
// official openai client), watch progress over SSE and WebSocket, find the image in the library with
// its recipe, curate it, validate /openapi.json. The shipped default model, few steps.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import WebSocket from 'ws';
import { readPngText } from '../../src/image/png-chunks.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';

let server: RunningServer;
let dir: string;

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(server.url + path, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

async function waitJob(id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const { json } = await api('GET', `/api/jobs/${id}`);
    if (['done', 'failed', 'cancelled'].includes(json.state as string)) return json;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

describe('gesso serve APIs', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-api-'));
    server = await startServer({ dataDir: dir, port: 0 });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('REST: generate, progress over SSE and WebSocket, image in the library with its recipe', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/events/ws`);
    const wsEvents: { type: string; jobId?: string; job?: { id: string; state: string } }[] = [];
    ws.on('message', (m) => wsEvents.push(JSON.parse(m.toString())));
    await new Promise((resolve) => ws.once('open', resolve));

    const sse = await fetch(`${server.url}/api/events`);
    const reader = sse.body!.getReader();
    let sseText = '';
    const readSse = (async () => {
      const decoder = new TextDecoder();
      while (!sseText.includes('"state":"done"')) {
        const { value, done } = await reader.read();
        if (done) break;
        sseText += decoder.decode(value);
      }
    })();

    const { status, json: job } = await api<{ id: string; state: string }>('POST', '/api/generate', { prompt: 'a red star', steps: 10, seed: 11 });
    assert.equal(status, 202);
    const done = await waitJob(job.id);
    assert.equal(done.state, 'done', String(done.error));
    await readSse;
    await reader.cancel();
    ws.close();

    assert.match(sseText, /event: progress/);
    assert.match(sseText, /"preview":"iVBORw0KGgo/, 'a preview PNG every few steps');
    assert.match(sseText, /"etaMs":/);
    const progress = wsEvents.filter((e) => e.type === 'progress' && e.jobId === job.id);
    assert.equal(progress.length, 10, 'one WebSocket progress event per step');
    assert.ok(wsEvents.some((e) => e.type === 'state' && e.job?.id === job.id && e.job.state === 'done'));

    const ids = (done.result as { imageIds: string[] }).imageIds;
    assert.equal(ids.length, 1);
    const { json: image } = await api<Record<string, unknown>>('GET', `/api/images/${ids[0]}`);
    assert.equal(image.prompt, 'a red star');
    assert.equal(image.seed, 11);
    assert.equal(image.steps, 10);
    assert.equal(image.model, 'gesso-default-v2');
    assert.equal((image.recipe as { format: string }).format, 'gesso.generate');
    assert.equal(
      (image.provenance as { digitalSourceType: string }).digitalSourceType,
      'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
    );
    const png = new Uint8Array(await (await fetch(`${server.url}/api/images/${ids[0]}/png`)).arrayBuffer());
    assert.ok(
      readPngText(png).some((t) => t.keyword === 'parameters' && t.text.includes('Seed: 11')),
      'the export carries A1111 parameters',
    );

    // img2img from the library image: the child records its parent's hash, and lineage links both ways.
    const { json: child } = await api<{ id: string }>('POST', '/api/generate', {
      prompt: 'a red star',
      steps: 4,
      seed: 2,
      initImageId: ids[0],
      strength: 0.6,
      width: 64,
      height: 64,
      upscale: false,
    });
    const childDone = await waitJob(child.id);
    assert.equal(childDone.state, 'done', String(childDone.error));
    const childId = (childDone.result as { imageIds: string[] }).imageIds[0]!;
    const { json: childImage } = await api<{ parentSha256: string; provenance: { digitalSourceType: string } }>('GET', `/api/images/${childId}`);
    assert.equal(childImage.parentSha256, image.sha256);
    assert.equal(childImage.provenance.digitalSourceType, 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia');
    const { json: lineage } = await api<{ parents: { id: string }[]; children: { id: string }[] }>('GET', `/api/images/${ids[0]}/lineage`);
    assert.deepEqual(
      lineage.children.map((c) => c.id),
      [childId],
    );
    assert.deepEqual(
      (await api<{ parents: { id: string }[] }>('GET', `/api/images/${childId}/lineage`)).json.parents.map((p) => p.id),
      [ids[0]],
    );

    // Upscale the child (64 px: made without the upscaler) 4x.
    const { json: up } = await api<{ id: string }>('POST', '/api/upscale', { imageId: childId });
    const upDone = await waitJob(up.id);
    assert.equal(upDone.state, 'done', String(upDone.error));
    const { json: upImage } = await api<{ width: number; parentSha256: string }>('GET', `/api/images/${(upDone.result as { imageIds: string[] }).imageIds[0]}`);
    assert.equal(upImage.width, 256);
    assert.equal(upImage.parentSha256, (await api<{ sha256: string }>('GET', `/api/images/${childId}`)).json.sha256);

    // Same seed, same settings: the same image bytes (content-addressed: same sha256).
    const { json: again } = await api<{ id: string }>('POST', '/api/generate', { prompt: 'a red star', steps: 10, seed: 11 });
    const second = await waitJob(again.id);
    const { json: image2 } = await api<{ sha256: string }>('GET', `/api/images/${(second.result as { imageIds: string[] }).imageIds[0]}`);
    assert.equal(image2.sha256, image.sha256);
  });

  test('curation over HTTP: rating, reject, tags, note, search, trash, collections, comparisons, export', async () => {
    const made = await waitJob((await api<{ id: string }>('POST', '/api/generate', { prompt: 'blue circle', steps: 4, seed: 3, batchSize: 2 })).json.id);
    const [a, b] = (made.result as { imageIds: string[] }).imageIds as [string, string];
    assert.equal((await api('PATCH', `/api/images/${a}`, { rating: 5, favourite: true, note: 'keeper for the poster' })).json.rating, 5);
    assert.equal((await api('PATCH', `/api/images/${b}`, { rejected: true, rating: 1 })).json.rejected, true);
    assert.equal((await api('PATCH', `/api/images/${a}`, { rating: 6 })).status, 400);
    await api('POST', `/api/images/${a}/tags`, { tags: ['Poster', 'blue'] });

    const search = async (query: string): Promise<string[]> =>
      ((await api<{ images: { id: string }[] }>('GET', `/api/images?${query}`)).json.images ?? []).map((i) => i.id);
    assert.deepEqual(await search('q=poster'), [a], 'full-text search reaches notes and tags');
    assert.deepEqual(await search('q=circle&minRating=4'), [a]);
    assert.deepEqual(await search('tag=poster'), [a]);
    assert.deepEqual(await search('rejected=true'), [b]);
    assert.deepEqual((await search('q=circle&limit=1')).length, 1);
    const page1 = await api<{ images: { id: string }[]; nextCursor: string }>('GET', '/api/images?q=circle&limit=1');
    const page2 = await api<{ images: { id: string }[]; nextCursor: string | null }>('GET', `/api/images?q=circle&limit=1&cursor=${page1.json.nextCursor}`);
    assert.notEqual(page1.json.images[0]!.id, page2.json.images[0]!.id);

    assert.equal((await api('DELETE', `/api/images/${b}`)).status, 200);
    assert.ok(!(await search('q=circle')).includes(b), 'trashed images leave the library');
    assert.deepEqual(await search('trash=true'), [b]);
    await api('POST', `/api/images/${b}/restore`);
    assert.ok((await search('q=circle')).includes(b));

    const comparison = await api<{ winner: string }>('POST', '/api/comparisons', { a, b, winner: 'a' });
    assert.equal(comparison.status, 201);
    assert.equal((await api<{ comparisons: unknown[] }>('GET', '/api/comparisons')).json.comparisons.length, 1);

    const col = (await api<{ id: string }>('POST', '/api/collections', { name: 'Posters' })).json;
    await api('POST', `/api/collections/${col.id}/items`, { imageId: a });
    assert.deepEqual(await search(`collection=${col.id}`), [a]);
    const tar = Buffer.from(await (await fetch(`${server.url}/api/collections/${col.id}/export`)).arrayBuffer());
    assert.equal(tar.subarray(0, `${a}.png`.length).toString(), `${a}.png`);
    assert.ok(tar.includes(Buffer.from('metadata.json')));
    assert.ok(tar.includes(Buffer.from('keeper for the poster')));
  });

  test('/openapi.json is a valid OpenAPI 3.1 document generated from the routes', async () => {
    const doc = (await api<Record<string, unknown>>('GET', '/openapi.json')).json;
    assert.equal(doc.openapi, '3.1.0');
    const result = await new Validator().validate(doc as Parameters<Validator['validate']>[0]);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    const paths = Object.keys(doc.paths as object);
    for (const p of ['/api/images', '/api/generate', '/api/images/{id}', '/sdapi/v1/txt2img', '/v1/images/generations', '/api/collections/{id}/export'])
      assert.ok(paths.includes(p), p);
  });

  test('A1111: txt2img with override_settings, png-info of the result, img2img, samplers, models, options, progress', async () => {
    const res = await api<{ images: string[]; info: string; parameters: Record<string, unknown> }>('POST', '/sdapi/v1/txt2img', {
      prompt: 'a green tree',
      negative_prompt: 'blurry',
      steps: 6,
      cfg_scale: 5,
      sampler_name: 'DPM++ 2M',
      scheduler: 'Karras',
      seed: 42,
      width: 256,
      height: 256,
      batch_size: 1,
      override_settings: { sd_model_checkpoint: 'gesso-clipart-v1' },
      enable_hr: false,
      restore_faces: false,
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.images.length, 1);
    const png = Buffer.from(res.json.images[0]!, 'base64');
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.width, meta.height], [256, 256]);
    const info = JSON.parse(res.json.info) as { seed: number; all_seeds: number[]; infotexts: string[]; sd_model_name: string };
    assert.equal(info.seed, 42);
    assert.equal(info.sd_model_name, 'gesso-clipart-v1');
    assert.match(info.infotexts[0]!, /Sampler: DPM\+\+ 2M, Schedule type: Karras/);
    assert.equal(res.json.parameters.prompt, 'a green tree');

    const pngInfo = await api<{ info: string; items: Record<string, string>; parameters: Record<string, unknown> }>('POST', '/sdapi/v1/png-info', {
      image: res.json.images[0],
    });
    assert.match(pngInfo.json.info, /^a green tree\nNegative prompt: blurry\nSteps: 6/);
    assert.equal(pngInfo.json.parameters.Seed, 42);
    assert.equal(pngInfo.json.parameters['Size-1'], 64);
    assert.equal((JSON.parse(pngInfo.json.items.gesso!) as { seed: number }).seed, 42);

    const img2img = await api<{ images: string[]; info: string }>('POST', '/sdapi/v1/img2img', {
      prompt: 'a green tree',
      init_images: [res.json.images[0]],
      denoising_strength: 0.5,
      steps: 6,
      seed: 5,
    });
    assert.equal(img2img.status, 200, JSON.stringify(img2img.json));
    const img2imgInfo = await api<{ info: string }>('POST', '/sdapi/v1/png-info', { image: img2img.json.images[0] });
    assert.match(img2imgInfo.json.info, /Denoising strength: 0.5/);

    const samplers = (await api<{ name: string }[]>('GET', '/sdapi/v1/samplers')).json.map((s) => s.name);
    for (const s of ['Euler a', 'DPM++ 2M Karras', 'DDIM']) assert.ok(samplers.includes(s), s);
    const models = (await api<{ title: string; filename: string }[]>('GET', '/sdapi/v1/sd-models')).json;
    assert.ok(
      models.some((m) => m.title === 'gesso-clipart-v1' && !m.filename.includes('/')),
      'models by id, no server paths',
    );
    assert.equal((await api('POST', '/sdapi/v1/options', { sd_model_checkpoint: 'no-such-model' })).status, 404);
    assert.equal((await api('POST', '/sdapi/v1/options', { sd_model_checkpoint: 'gesso-clipart-v1' })).status, 200);
    assert.equal((await api<{ sd_model_checkpoint: string }>('GET', '/sdapi/v1/options')).json.sd_model_checkpoint, 'gesso-clipart-v1');
    const progress = (await api<{ progress: number; state: { job_count: number } }>('GET', '/sdapi/v1/progress')).json;
    assert.equal(progress.progress, 0);
    assert.equal(progress.state.job_count, 0);
    assert.equal((await api('POST', '/sdapi/v1/interrupt')).status, 200);
    assert.equal((await api<{ detail: string }>('POST', '/sdapi/v1/txt2img', { prompt: 'x', width: 5000 })).status, 400);
    const badSampler = await api<{ detail: string }>('POST', '/sdapi/v1/txt2img', { prompt: 'x', sampler_name: 'Heun' });
    assert.equal(badSampler.status, 400);
    assert.match(badSampler.json.detail, /unknown scheduler "Heun"; expected one of: .*Euler a/);
    const restBad = await api<{ error: string; param?: string }>('POST', '/api/generate', { prompt: 'x', steps: 0 });
    assert.equal(restBad.status, 400);
    assert.equal(restBad.json.param, 'steps');
  });

  test('A1111 progress shows the running job with a preview; interrupt cancels it; its SSE stream says so', async () => {
    const { json: job } = await api<{ id: string }>('POST', '/api/generate', { prompt: 'a purple flower', steps: 400, seed: 9 });
    const sse = await fetch(`${server.url}/api/jobs/${job.id}/events`);
    const reader = sse.body!.getReader();
    let text = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      while (!text.includes('"state":"cancelled"')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
    })();
    type Progress = {
      progress: number;
      eta_relative: number;
      state: { job: string; sampling_step: number; sampling_steps: number };
      current_image: string | null;
    };
    let progress = null as Progress | null;
    for (let i = 0; i < 600; i++) {
      progress = (await api<Progress>('GET', '/sdapi/v1/progress')).json;
      if (progress.state.job === job.id && progress.state.sampling_step >= 5 && progress.current_image) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(progress!.state.job, job.id);
    assert.equal(progress!.state.sampling_steps, 400);
    assert.ok(progress!.progress > 0 && progress!.progress < 1);
    assert.ok(progress!.eta_relative > 0);
    assert.match(progress!.current_image!, /^iVBORw0KGgo/, 'the latest preview as base64 PNG');
    assert.equal((await api('POST', '/sdapi/v1/interrupt')).status, 200);
    const done = await waitJob(job.id);
    assert.equal(done.state, 'cancelled');
    await reading;
    await reader.cancel();
    assert.match(text, /event: progress/);
    assert.match(text, /"state":"cancelled"/);
    assert.deepEqual((await api<{ images: unknown[] }>('GET', '/api/images?q=purple')).json.images, [], 'a cancelled job stores nothing');
  });

  test('the official openai client generates and edits images; errors name the param', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused-in-local-mode', maxRetries: 0 });
    const result = await client.images.generate({ model: 'gesso-clipart-v1', prompt: 'a yellow flower', n: 2, size: '256x256', response_format: 'b64_json' });
    assert.equal(result.data?.length, 2);
    for (const d of result.data ?? []) {
      const meta = await sharp(Buffer.from(d.b64_json!, 'base64')).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 256, 256]);
    }

    await assert.rejects(client.images.generate({ prompt: 'a yellow flower', size: '5000x5000' as '256x256', response_format: 'b64_json' }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.BadRequestError);
      assert.equal((e.error as { param: string }).param, 'size');
      return true;
    });
    await assert.rejects(client.images.generate({ prompt: 'x', response_format: 'jpeg' as 'b64_json' }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.BadRequestError);
      assert.equal((e.error as { param: string }).param, 'response_format');
      return true;
    });
    await assert.rejects(
      client.images.generate({ prompt: 'x', n: 99, response_format: 'b64_json' }),
      (e: unknown) => (e as { error: { param: string } }).error.param === 'n',
    );

    // Edit: the transparent square of the mask is repainted.
    const image = await sharp({ create: { width: 256, height: 256, channels: 3, background: '#3060c0' } })
      .png()
      .toBuffer();
    const mask = await sharp({ create: { width: 256, height: 256, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 1 } } })
      .composite([
        {
          input: await sharp({ create: { width: 128, height: 128, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
            .png()
            .toBuffer(),
          left: 64,
          top: 64,
          blend: 'dest-out',
        },
      ])
      .png()
      .toBuffer();
    const edited = await client.images.edit({
      image: await toFile(image, 'image.png', { type: 'image/png' }),
      mask: await toFile(mask, 'mask.png', { type: 'image/png' }),
      prompt: 'a red star',
      response_format: 'b64_json',
      size: '256x256',
    });
    const out = await sharp(Buffer.from(edited.data![0]!.b64_json!, 'base64')).raw().toBuffer({ resolveWithObject: true });
    assert.equal(out.info.width, 256);
    const corner = [out.data[0], out.data[1], out.data[2]];
    assert.ok(corner[2]! > corner[0]!, `outside the mask the blue image stays blue-ish, got ${corner}`);
  });

  test('importing a PNG from A1111 reads its parameters into the library', async () => {
    const { encodePng } = await import('../../src/image/write-image.ts');
    const png = await encodePng(new Uint8Array(8 * 8 * 3).fill(128), 8, 8, 3, {
      parameters: {
        prompt: 'castle on a hill',
        negativePrompt: 'fog',
        steps: 30,
        sampler: 'Euler a',
        cfgScale: 6,
        seed: 1234,
        width: 512,
        height: 512,
        model: 'sd15',
      },
    });
    const res = await fetch(`${server.url}/api/images/import?fileName=castle.png`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
    assert.equal(res.status, 201);
    const image = (await res.json()) as Record<string, unknown>;
    assert.equal(image.prompt, 'castle on a hill');
    assert.equal(image.sampler, 'Euler a');
    assert.equal(image.seed, 1234);
    assert.equal(image.origin, 'imported');
    assert.equal((image.provenance as { reader: string }).reader, 'a1111');
    const back = new Uint8Array(await (await fetch(`${server.url}/api/images/${image.id}/png`)).arrayBuffer());
    assert.deepEqual(back, png, 'export gives back the imported file byte for byte');
  });
});
