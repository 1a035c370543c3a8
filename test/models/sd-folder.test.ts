import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { buildVaeDecoder, buildVaeEncoder, vaeConfig } from '../../src/models/autoencoder-kl.ts';
import { buildClipTextEncoder, clipTextConfig } from '../../src/models/clip-text-encoder.ts';
import { writeSdFolder, type SdFolderComponents } from '../../src/models/sd-folder.ts';
import { SD15_SCHEDULER } from '../../src/models/fixtures/tiny-sd.ts';
import { buildUNet2DCondition, unetConfig } from '../../src/models/unet2d-condition.ts';
import { loadTokenizer } from '../../src/text/load-tokenizer.ts';
import { WordTokenizer } from '../../src/text/word-tokenizer.ts';
import { i64, maxAbsDiff, runModel } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'gesso-sd-folder-'));
after(() => rmSync(root, { recursive: true, force: true }));

const WORDS = new WordTokenizer(['<pad>', '<bos>', '<eos>', '<unk>', 'red', 'apple', 'blue', 'sky'], { maxLength: 16 });

function components(overrides: { cross?: number; words?: WordTokenizer } = {}): SdFolderComponents {
  const text = clipTextConfig({
    vocab_size: 8,
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    max_position_embeddings: 16,
    hidden_act: 'gelu',
  });
  const unet = unetConfig({
    sample_size: 4,
    block_out_channels: [8, 16],
    layers_per_block: 1,
    norm_num_groups: 4,
    cross_attention_dim: overrides.cross ?? 8,
    attention_head_dim: 2,
    down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
    up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
  });
  const vae = vaeConfig({ block_out_channels: [4, 4], layers_per_block: 1, norm_num_groups: 2, sample_size: 8 });
  return {
    pipeline: 'OnnxStableDiffusionPipeline',
    textEncoder: buildClipTextEncoder(text, { idsDtype: 'int64', eosTokenId: 2 }),
    unet: buildUNet2DCondition(unet, { height: 4, width: 4, sequence: 16 }),
    vaeEncoder: buildVaeEncoder(vae, { height: 8, width: 8 }),
    vaeDecoder: buildVaeDecoder(vae, { height: 8, width: 8 }),
    tokenizer: { kind: 'word', tokenizer: overrides.words ?? WORDS },
    scheduler: { ...SD15_SCHEDULER },
    modelCard: '# test model\n',
  };
}

test("a folder with gesso's word tokenizer: the tokenizer loads and the text encoder pools at its end token", async () => {
  const dir = join(root, 'words');
  writeSdFolder(dir, components());
  assert.equal(readFileSync(join(dir, 'README.md'), 'utf8'), '# test model\n');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'model_index.json'), 'utf8')).tokenizer, ['gesso', 'WordTokenizer']);
  const tokenizer = await loadTokenizer(dir);
  const ids = [...tokenizer.encode('red apple').ids];
  assert.deepEqual(ids.slice(0, 5), [1, 4, 5, 2, 0]);
  const [out] = await runModel(join(dir, 'text_encoder/model.onnx'), [{ input_ids: i64([1, 16], ids) }]);
  const eos = out!.last_hidden_state!.data.slice(3 * 8, 4 * 8);
  assert.ok(maxAbsDiff(out!.pooler_output!.data, eos) < 1e-6);
});

test('components that do not fit together are refused before anything is written', () => {
  const dir = join(root, 'mismatch');
  assert.throws(
    () => writeSdFolder(dir, components({ cross: 16 })),
    (e: Error) => e instanceof InputError && /cross_attention_dim 16 .* hidden_size 8/.test(e.message),
  );
  const tooLong = new WordTokenizer(['<pad>', '<bos>', '<eos>', '<unk>'], { maxLength: 20 });
  assert.throws(() => writeSdFolder(dir, components({ words: tooLong })), /max length 20 must equal .* 16/);
  assert.equal(existsSync(dir), false);
  assert.deepEqual(
    readdirSync(root).filter((f) => f.startsWith('.')),
    [],
    'no temporary folder left behind',
  );
});

test('a failure part-way leaves neither the folder nor a temporary one; an existing folder is kept unless overwrite', () => {
  const dir = join(root, 'broken');
  const c = components();
  c.tokenizer = { kind: 'clip', dir: join(root, 'no-such-bpe') };
  assert.throws(() => writeSdFolder(dir, c), /has no vocab.json/);
  assert.equal(existsSync(dir), false);
  assert.deepEqual(
    readdirSync(root).filter((f) => f.startsWith('.')),
    [],
  );
  const kept = join(root, 'words');
  assert.throws(() => writeSdFolder(kept, components()), /already exists/);
  assert.ok(existsSync(join(kept, 'unet/model.onnx')));
});
