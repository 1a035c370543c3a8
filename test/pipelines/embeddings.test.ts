// Textual-inversion embeddings at generation, and the recipe of a picture made with LoRAs and embeddings:
// `gesso generate --recipe` finds the same files and re-makes the picture byte for byte; a LoRA missing at
// recipe time is a clear error naming it; bad embedding files (a pickle, not safetensors, NaN, wrong width,
// wrong key) are refused naming the problem.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateCommand } from '../../src/cli/commands/generate.ts';
import { Rng } from '../../src/core/rng.ts';
import { readImageInfo } from '../../src/image/read-info.ts';
import { chooseEmbeddings } from '../../src/pipelines/embedding-choice.ts';
import { generate } from '../../src/pipelines/generate.ts';
import { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { TokenizerWithWords } from '../../src/text/added-words.ts';
import { WordTokenizer } from '../../src/text/word-tokenizer.ts';
import { readEmbeddingFile, writeEmbeddingFile } from '../../src/weights/embedding-file.ts';
import { kohyaKey, writeLoraFile } from '../../src/weights/lora-file.ts';
import { readOnnxWeights } from '../../src/models/onnx-weights.ts';
import { writeSafetensors } from '../../src/weights/safetensors.ts';
import { scratchDir, tinyFolder } from './tiny-models.ts';

const HIDDEN = 32; // the tiny SD folders' text width

function dir(name: string): string {
  const d = join(scratchDir(), name);
  mkdirSync(d, { recursive: true });
  return d;
}

function randomEmbedding(path: string, vectors: number, seed: number, hidden = HIDDEN): string {
  writeEmbeddingFile(path, Float32Array.from(new Rng(seed).normal(vectors * hidden)), vectors);
  return path;
}

function randomLora(path: string, seed: number): string {
  const w = readOnnxWeights(join(tinyFolder('sd1'), 'unet/model.onnx'));
  const rng = new Rng(seed);
  const modules = [...w.initializers.entries()]
    .filter(([name]) => /attn2\.to_v\.weight$/.test(name))
    .map(([name, t]) => {
      const [out, inF] = t.dims as [number, number];
      return {
        key: kohyaKey('unet', name.slice(0, -'.weight'.length)),
        component: 'unet' as const,
        down: { shape: [2, inF], data: Float32Array.from(rng.normal(2 * inF), (v) => 0.3 * v) },
        up: { shape: [out, 2], data: Float32Array.from(rng.normal(out * 2), (v) => 0.3 * v) },
        rank: 2,
        alpha: 2,
      };
    });
  writeLoraFile(path, modules);
  return path;
}

test('the word tokenizer and CLIP BPE both map an added word to its new ids, whole words only, any case', async () => {
  const words = new WordTokenizer(['<pad>', '<bos>', '<eos>', '<unk>', 'red', 'star'], { maxLength: 8 });
  const t = new TokenizerWithWords(words, new Map([['zorb', [10, 11]]]));
  assert.deepEqual(t.tokenize('a red Zorb star'), [4, 10, 11, 5]);
  assert.deepEqual(t.tokenize('zorbs'), [3], 'zorbs is another word');
  assert.equal(t.vocabSize, 12);
  assert.equal(t.decode(t.encode('red zorb').ids), 'red zorb');
  const model = await DiffusionModel.load(tinyFolder('sd1'), { runner: 'in-process', upscaler: false });
  try {
    const clip = new TokenizerWithWords(model.tokenizer, new Map([['my-style', [49408]]]));
    assert.deepEqual(clip.tokenize('a cat, my-style'), [...model.tokenizer.tokenize('a cat,'), 49408]);
  } finally {
    await model.release();
  }
});

test('bad embedding files are refused naming the problem', async () => {
  const d = dir('bad-embeddings');
  const folder = tinyFolder('sd1');
  const load = (path: string) => DiffusionModel.load(folder, { runner: 'in-process', upscaler: false, embeddings: [path] });
  const pt = join(d, 'pickled.pt');
  writeFileSync(pt, Uint8Array.of(0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e));
  await assert.rejects(load(pt), /must be a \.safetensors file with an "emb_params" tensor/);
  const disguised = join(d, 'disguised.safetensors');
  copyFileSync(pt, disguised);
  await assert.rejects(load(disguised), /is a Python pickle/);
  const text = join(d, 'text.safetensors');
  writeFileSync(text, 'not a tensor file at all');
  await assert.rejects(load(text), /text\.safetensors/);
  const nan = join(d, 'nan.safetensors');
  const values = Float32Array.from(new Rng(1).normal(2 * HIDDEN));
  values[HIDDEN + 5] = Number.NaN;
  writeEmbeddingFile(nan, values, 2);
  await assert.rejects(load(nan), /"emb_params" holds NaN at vector 1, index 5/);
  const wide = randomEmbedding(join(d, 'wide.safetensors'), 1, 2, 768);
  await assert.rejects(load(wide), /embedding "wide" has vectors of width 768; this model's text encoder takes 32/);
  const other = join(d, 'other.safetensors');
  writeSafetensors(other, { 'string_to_param.*': { dtype: 'F32', shape: [1, HIDDEN], data: new Float32Array(HIDDEN) } });
  assert.throws(() => readEmbeddingFile(other), /no "emb_params" tensor \(found: string_to_param\.\*\)/);
});

test('embeddings from --embedding and the embeddings folder; LoRAs and embeddings in the recipe re-make the picture byte for byte; a missing LoRA is named', async () => {
  const model = tinyFolder('sd1');
  const embeddings = dir('embeddings');
  const loras = dir('recipe-loras');
  randomEmbedding(join(embeddings, 'inkwash.safetensors'), 2, 7);
  randomEmbedding(join(embeddings, 'unused.safetensors'), 1, 8);
  writeFileSync(join(embeddings, 'broken.safetensors'), 'never read: no prompt names it');
  assert.deepEqual(chooseEmbeddings(['a cat, Inkwash'], [], embeddings), [join(embeddings, 'inkwash.safetensors')]);
  const lora = randomLora(join(loras, 'sharp.safetensors'), 9);
  const run = (...args: string[]) => generateCommand.run(args);
  const first = join(scratchDir(), 'made.png');
  const common = ['--model', model, '--steps', '2', '--size', '64x64', '--seed', '5', '--embeddings-dir', embeddings];
  assert.equal(await run('a cat, inkwash', ...common, '--lora', `${lora}:0.6`, '--out', first), 0);
  const recipe = (await readImageInfo(first)).recipe as Record<string, unknown>;
  assert.deepEqual(
    (recipe.loras as { name: string; weight: number }[]).map((l) => [l.name, l.weight]),
    [['sharp', 0.6]],
  );
  assert.deepEqual(
    (recipe.embeddings as { word: string; vectors: number }[]).map((e) => [e.word, e.vectors]),
    [['inkwash', 2]],
  );
  const again = join(scratchDir(), 'remade.png');
  assert.equal(await run('--recipe', first, '--model', model, '--lora-dir', loras, '--embeddings-dir', embeddings, '--out', again), 0);
  assert.deepEqual(readFileSync(again), readFileSync(first), 'the recipe re-makes the same bytes');
  const noLora = join(scratchDir(), 'no-lora.png');
  await assert.rejects(
    run('--recipe', first, '--model', model, '--lora-dir', dir('empty-loras'), '--embeddings-dir', embeddings, '--out', noLora),
    /the recipe was made with LoRA "sharp" at weight 0\.6 \(SHA-256 [0-9a-f]{12}…\): no file .*sharp\.safetensors; pass it with --lora FILE:0\.6 or --lora-dir DIR/,
  );
  await assert.rejects(
    run('--recipe', first, '--model', model, '--lora-dir', loras, '--embeddings-dir', dir('empty-embeddings'), '--out', noLora),
    /the recipe was made with embedding "inkwash" .*: no file .*inkwash\.safetensors; pass it with --embedding FILE/,
  );
  const without = join(scratchDir(), 'without.png');
  assert.equal(await run('a cat, inkwash', ...common.slice(0, -2), '--out', without), 0);
  assert.notDeepEqual(readFileSync(without), readFileSync(first));
});

test('loadModel reads an embeddings folder: usable files load, a broken one is skipped with a note; the recipe names only the words used', async () => {
  const folder = dir('folder-embeddings');
  randomEmbedding(join(folder, 'alpha.safetensors'), 1, 21);
  randomEmbedding(join(folder, 'beta.safetensors'), 3, 22);
  writeFileSync(join(folder, 'broken.safetensors'), 'garbage');
  const model = await DiffusionModel.load(tinyFolder('sd1'), { runner: 'in-process', upscaler: false, embeddingDir: folder });
  try {
    assert.deepEqual(
      model.embeddings.map((e) => [e.word, e.vectors]),
      [
        ['alpha', 1],
        ['beta', 3],
      ],
    );
    assert.ok(model.notes.some((n) => /broken\.safetensors skipped/.test(n)));
    const r = await generate(model, { prompt: 'a Beta house', steps: 2, width: 64, height: 64, seed: 2 });
    assert.deepEqual(
      r.images[0]?.recipe.embeddings.map((e) => e.word),
      ['beta'],
    );
  } finally {
    await model.release();
  }
});
