// LoRAs through the server: listed by name from the server's LoRA folders (no paths), chosen for a
// generation by name and weight or by a prompt's <lora:name:w> tag, recorded in the image's recipe;
// an unknown name, a weight out of range or one LoRA at two weights is a clear error before anything runs.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_MODEL_ID, SHIPPED_MODELS_FOLDER } from '../../src/server/models.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { writeRandomLora } from '../helpers/random-lora.ts';

let server: RunningServer;
let dir: string;

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(server.url + path, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as T };
}

describe('LoRAs through the server', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-loras-'));
    const extra = join(dir, 'my-loras');
    mkdirSync(extra);
    writeRandomLora(join(extra, 'ink.safetensors'), join(SHIPPED_MODELS_FOLDER, DEFAULT_MODEL_ID), 3, 0.05); // generate uses the default model
    writeFileSync(join(extra, 'broken.safetensors'), 'not a safetensors file');
    writeFileSync(join(extra, 'notes.txt'), 'not a LoRA');
    server = await startServer({ dataDir: join(dir, 'studio'), port: 0, loraFolders: [extra] });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('listed by name with the model it was made for; no server paths; unreadable files left out', async () => {
    const { json } = await call<{ loras: Record<string, unknown>[] }>('GET', '/api/loras');
    assert.deepEqual(
      json.loras.map((l) => [l.name, l.baseModel]),
      [['ink', DEFAULT_MODEL_ID]],
    );
    assert.ok(!JSON.stringify(json).includes(dir), 'no server path is sent');
  });

  test('bad choices are refused before anything is queued, naming the bad value', async () => {
    const unknown = await call<{ error: string }>('POST', '/api/generate', { prompt: 'a star', loras: [{ name: 'nope', weight: 1 }] });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /LoRA "nope" not found; available: ink/);
    const heavy = await call<{ error: string }>('POST', '/api/generate', { prompt: 'a star', loras: [{ name: 'ink', weight: 9 }] });
    assert.equal(heavy.status, 400);
    assert.match(heavy.json.error, /weight/);
    const tag = await call<{ error: string }>('POST', '/api/generate', { prompt: 'a star <lora:ink:5>' });
    assert.equal(tag.status, 400);
    assert.match(tag.json.error, /<lora:ink:5>: weight 5 is out of range/);
    const twice = await call<{ error: string }>('POST', '/api/generate', { prompt: 'a star <lora:ink:0.5>', loras: [{ name: 'ink', weight: 1 }] });
    assert.equal(twice.status, 400);
    assert.match(twice.json.error, /"ink" is asked for at weights 1 and 0.5/);
    const jobs = await call<{ jobs: unknown[] }>('GET', '/api/jobs');
    assert.equal(jobs.json.jobs.length, 0);
  });

  test("a prompt's <lora:ink:0.5> tag is merged and recorded in the recipe", async () => {
    const res = await call<{ id: string }>('POST', '/api/generate', { prompt: 'a red star <lora:ink:0.5>', steps: 2, seed: 1 });
    assert.equal(res.status, 202);
    const job = await server.studio.queue.waitFor(server.studio.users.local().id, res.json.id, 300_000);
    assert.equal(job.state, 'done', job.error ?? '');
    const [id] = (job.result as { imageIds: string[] }).imageIds;
    const image = (await call<{ recipe: { loras: { name: string; weight: number; sha256: string }[] } }>('GET', `/api/images/${id}`)).json;
    assert.deepEqual(
      image.recipe.loras.map((l) => [l.name, l.weight]),
      [['ink', 0.5]],
    );
    assert.match(image.recipe.loras[0]?.sha256 ?? '', /^[0-9a-f]{64}$/);
  });
});
