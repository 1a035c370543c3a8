// The library on a real SQLite file: imports from gesso, A1111 and ComfyUI PNGs, results stored once per
// (job, index), full-text search with filters and pages, soft delete, reopening the database.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { insertTextChunks } from '../../src/image/png-chunks.ts';
import { encodePng } from '../../src/image/write-image.ts';
import { openDatabase } from '../../src/studio/database.ts';
import { ImageStore } from '../../src/studio/image-store.ts';
import { importPng } from '../../src/studio/import-image.ts';
import { Library } from '../../src/studio/library.ts';
import { Users } from '../../src/studio/users.ts';

const dir = mkdtempSync(join(tmpdir(), 'gesso-library-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function open(): { library: Library; users: Users; close(): void } {
  const db = openDatabase(join(dir, 'gesso.db'));
  return { library: new Library(db, new ImageStore(join(dir, 'images'))), users: new Users(db), close: () => db.close() };
}

const grey = (v: number): Uint8Array => new Uint8Array(4 * 4 * 3).fill(v);

test('imports read gesso recipes, A1111 parameters and ComfyUI graphs; the file is stored once by content', async () => {
  const { library, users, close } = open();
  try {
    const user = users.local();
    const recipe = {
      format: 'gesso.generate',
      version: 1,
      prompt: 'a lighthouse',
      negativePrompt: 'fog',
      steps: 12,
      cfgScale: 6,
      seed: 99,
      scheduler: { name: 'Euler a' },
      model: { name: 'my-model', hash: 'abcdef0123' },
      initImage: { path: null, sha256: 'f'.repeat(64) },
    };
    const gessoPng = await encodePng(grey(10), 4, 4, 3, { recipe });
    const fromGesso = await importPng(library, user.id, gessoPng, { fileName: 'a.png' });
    assert.equal(fromGesso.prompt, 'a lighthouse');
    assert.equal(fromGesso.sampler, 'Euler a');
    assert.equal(fromGesso.seed, 99);
    assert.equal(fromGesso.parentSha256, 'f'.repeat(64), 'lineage from the recipe');
    assert.equal(fromGesso.provenance.reader, 'gesso');

    const comfy = {
      '3': {
        class_type: 'KSampler',
        inputs: {
          seed: 5,
          steps: 20,
          cfg: 8,
          sampler_name: 'euler',
          scheduler: 'normal',
          denoise: 1,
          positive: ['6', 0],
          negative: ['7', 0],
          latent_image: ['5', 0],
        },
      },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 4, height: 4, batch_size: 1 } },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: 'purple galaxy bottle' } },
      '7': { class_type: 'CLIPTextEncode', inputs: { text: 'watermark' } },
    };
    const comfyPng = insertTextChunks(await encodePng(grey(20), 4, 4, 3), [{ keyword: 'prompt', text: JSON.stringify(comfy) }]);
    const fromComfy = await importPng(library, user.id, comfyPng);
    assert.equal(fromComfy.prompt, 'purple galaxy bottle');
    assert.equal(fromComfy.negativePrompt, 'watermark');
    assert.equal(fromComfy.sampler, 'euler');
    assert.equal(fromComfy.provenance.reader, 'comfyui');

    const again = await importPng(library, user.id, gessoPng);
    assert.notEqual(again.id, fromGesso.id, 'a second import is a second library entry');
    assert.equal(again.sha256, fromGesso.sha256, '... of the same stored file');
    const files = readdirSync(join(dir, 'images'), { recursive: true }).filter((f) => String(f).endsWith('.png'));
    assert.equal(files.length, 2);
    assert.ok(!readdirSync(join(dir, 'images'), { recursive: true }).some((f) => String(f).endsWith('.tmp')), 'no temp files left');

    await assert.rejects(importPng(library, user.id, new Uint8Array([1, 2, 3])), /not a PNG/);
  } finally {
    close();
  }
});

test('a job result is stored once per (job, index), however often it is added', async () => {
  const { library, users, close } = open();
  try {
    const user = users.local();
    const png = await encodePng(grey(30), 4, 4, 3);
    const image = { userId: user.id, png, width: 4, height: 4, origin: 'generated' as const, prompt: 'retry me', job: { id: 'job_retry-1', index: 0 } };
    const [a, b] = await Promise.all([library.add(image), library.add(image)]);
    const c = await library.add(image);
    assert.equal(a.id, b.id);
    assert.equal(a.id, c.id);
    assert.equal(library.imagesOfJob(user.id, 'job_retry-1').length, 1);
  } finally {
    close();
  }
});

test('search: words (FTS5), filters, date range, pages; trash and restore; survives reopening', async () => {
  let { library, users, close } = open();
  const user = users.create('searcher');
  const ids: string[] = [];
  for (let i = 0; i < 25; i++) {
    const png = await encodePng(grey(40 + i), 4, 4, 3);
    const rec = await library.add({
      userId: user.id,
      png,
      width: 4,
      height: 4,
      origin: 'generated',
      prompt: i % 2 ? `red apple number ${i}` : `green pear number ${i}`,
      sampler: i % 3 ? 'Euler a' : 'DDIM',
      model: 'm1',
      createdAt: 1_000_000 + i * 1000,
    });
    ids.push(rec.id);
  }
  library.rate(user.id, ids[3]!, 4);
  library.addTags(user.id, ids[5]!, ['Still Life']);
  library.setNote(user.id, ids[7]!, 'use for the "catalogue" cover (draft)');
  assert.equal(library.search(user.id, { text: 'apple' }).images.length, 12);
  assert.equal(library.search(user.id, { text: 'apple', sampler: 'DDIM' }).images.length, 4);
  assert.deepEqual(
    library.search(user.id, { minRating: 4 }).images.map((i) => i.id),
    [ids[3]],
  );
  assert.deepEqual(
    library.search(user.id, { tag: 'still life' }).images.map((i) => i.id),
    [ids[5]],
  );
  assert.deepEqual(
    library.search(user.id, { text: 'still' }).images.map((i) => i.id),
    [ids[5]],
  );
  assert.deepEqual(
    library.search(user.id, { text: '"catalogue" cover (draft' }).images.map((i) => i.id),
    [ids[7]],
    'FTS syntax in the query is plain text',
  );
  assert.deepEqual(
    library.search(user.id, { from: 1_000_000 + 20_000, to: 1_000_000 + 22_000 }).images.map((i) => i.id),
    [ids[21], ids[20]],
  );
  // Pages of 10 cover everything once, newest first.
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page = library.search(user.id, { limit: 10, ...(cursor ? { cursor } : {}) });
    seen.push(...page.images.map((i) => i.id));
    cursor = page.nextCursor;
  } while (cursor);
  assert.deepEqual(seen, [...ids].reverse());
  assert.throws(() => library.search(user.id, { limit: 0 }), /limit 0/);
  assert.throws(() => library.rate(user.id, ids[0]!, 0), /rating 0: expected an integer from 1 to 5/);

  library.softDelete(user.id, ids[0]!);
  assert.equal(library.get(user.id, ids[0]!), null);
  assert.equal(library.search(user.id, { deleted: true }).images.length, 1);
  close();

  ({ library, users, close } = open());
  try {
    assert.equal(library.count(user.id), 24, 'reopened: everything but the trashed image');
    library.restore(user.id, ids[0]!);
    assert.equal(library.count(user.id), 25);
    assert.equal(library.require(user.id, ids[3]!).rating, 4);
    assert.ok(existsSync(library.store.pathOf(library.require(user.id, ids[0]!).sha256)));
  } finally {
    close();
  }
});
