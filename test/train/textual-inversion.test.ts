// Textual inversion on the tiny SD folder (CLIP BPE tokenizer): a few steps give an A1111 embedding
// (emb_params (n, hidden)) in which only the new word's vectors moved; it loads back, the tokenizer maps
// the word to the new ids, and pictures with the word change while pictures without it do not.
// Pictures without captions are captioned with the word (with a warning); an empty folder is refused.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { writeTinySdModel } from '../../src/models/fixtures/tiny-sd.ts';
import { generate } from '../../src/pipelines/generate.ts';
import { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { trainTextualInversion } from '../../src/train/finetune/train-textual-inversion.ts';
import { readEmbeddingFile } from '../../src/weights/embedding-file.ts';
import { readSafetensors } from '../../src/weights/safetensors.ts';

const root = mkdtempSync(join(tmpdir(), 'gesso-ti-'));
after(() => rmSync(root, { recursive: true, force: true }));
const modelDir = join(root, 'tiny-sd1');
writeTinySdModel(modelDir, { variant: 'sd1', seed: 2 });

async function pictures(dir: string, count: number, captions: boolean): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#fff"/><rect x="${8 + 4 * i}" y="16" width="30" height="30" fill="#c0c"/></svg>`;
    await sharp(Buffer.from(svg))
      .png()
      .toFile(join(dir, `box${i}.png`));
    if (captions) writeFileSync(join(dir, `box${i}.txt`), `a purple box`);
  }
}

const base = { modelDir, size: 64, batch: 2, quiet: true, sampleSteps: 2 } as const;

async function pixels(prompt: string, embeddings: string[]): Promise<Float32Array> {
  const model = await DiffusionModel.load(modelDir, { runner: 'in-process', upscaler: false, embeddings });
  try {
    return (await generate(model, { prompt, steps: 2, width: 64, height: 64, seed: 1 })).images[0]?.pixels as Float32Array;
  } finally {
    await model.release();
  }
}

test('an empty folder is refused and nothing is created', async () => {
  const empty = join(root, 'empty');
  mkdirSync(empty);
  await assert.rejects(
    trainTextualInversion({ ...base, dataDir: empty, token: 'zorb', outDir: join(root, 'run-empty'), steps: 1, log: () => {} }),
    /the folder holds no \.png \.jpg \.jpeg \.webp or \.svg pictures/,
  );
  assert.equal(existsSync(join(root, 'run-empty', 'samples')), false);
});

test('a word learnt for a few steps is an A1111 embedding that loads, tokenizes to new ids and changes only its prompts', async () => {
  const data = join(root, 'boxes');
  await pictures(data, 3, false);
  const lines: string[] = [];
  const outDir = join(root, 'run');
  const r = await trainTextualInversion({ ...base, dataDir: data, token: 'zorb', vectors: 2, outDir, steps: 3, checkpointEvery: 2, log: (l) => lines.push(l) });
  assert.ok(
    lines.some((l) => /warning: 3 of 3 pictures have no caption file .* captioned "zorb"/.test(l)),
    lines.join('\n'),
  );
  assert.equal(r.images, 3);
  assert.ok(r.losses.length === 3 && r.losses.every(Number.isFinite));
  const file = readSafetensors(r.embeddingPath);
  assert.deepEqual([...file.tensors.keys()], ['emb_params']);
  const emb = readEmbeddingFile(r.embeddingPath);
  assert.equal(emb.word, 'zorb');
  assert.equal(emb.count, 2);
  const checkpoint = readSafetensors(join(outDir, 'checkpoint.safetensors'));
  assert.ok(
    [...checkpoint.tensors.keys()].every((k) => k === 'emb_params' || k.startsWith('opt.')),
    'only the new rows (and their optimizer state) train',
  );
  const again = await trainTextualInversion({ ...base, dataDir: data, token: 'zorb', vectors: 2, outDir, steps: 4, log: () => {} });
  assert.equal(again.resumedFrom, 3);

  const model = await DiffusionModel.load(modelDir, { runner: 'in-process', upscaler: false, embeddings: [again.embeddingPath] });
  try {
    const rows = model.tokenizer.vocabSize - 2;
    assert.deepEqual(model.tokenizer.tokenize('a Zorb box'), [...model.tokenizer.tokenize('a'), rows, rows + 1, ...model.tokenizer.tokenize('box')]);
    assert.deepEqual(
      model.embeddings.map((e) => [e.word, e.vectors]),
      [['zorb', 2]],
    );
  } finally {
    await model.release();
  }
  assert.deepEqual(await pixels('a purple box', [again.embeddingPath]), await pixels('a purple box', []), 'prompts without the word are unchanged');
  assert.notDeepEqual(await pixels('a zorb', [again.embeddingPath]), await pixels('a zorb', []));
});
