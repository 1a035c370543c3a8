import assert from 'node:assert/strict';
import test from 'node:test';
import { buildClipTextEncoder, clipTextConfig, exportClipTextEncoder } from '../../src/models/clip-text-encoder.ts';
import { SD15_TEXT } from '../../src/models/fixtures/sd15-shapes.ts';
import { i32, i64, maxAbsDiff, runModel } from './helpers.ts';

const TINY = clipTextConfig({ hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2, projection_dim: 16 });
const BOS = 49406;
const EOS = 49407;

/** A prompt of `words` ids wrapped as CLIP does and padded to 77 with `pad`. */
function tokens(words: number[], pad: number): number[] {
  const row = [BOS, ...words, EOS];
  while (row.length < 77) row.push(pad);
  return row;
}

test('CLIP text encoder: batch 1 and 3 from one build; int32 and int64 input_ids agree; batch items do not mix', async () => {
  const rows = [tokens([320, 736, 3055], EOS), tokens([1929], EOS), tokens([539, 320, 2368, 539, 1125], 0)];
  const asInt32 = exportClipTextEncoder(buildClipTextEncoder(TINY, { seed: 1, idsDtype: 'int32' }));
  const asInt64 = exportClipTextEncoder(buildClipTextEncoder(TINY, { seed: 1, idsDtype: 'int64', batch: 2 }));
  assert.deepEqual(
    asInt32.inputs.map((i) => [i.name, i.dtype]),
    [['input_ids', 'int32']],
  );
  assert.deepEqual(
    asInt32.outputs.map((o) => o.name),
    ['last_hidden_state', 'pooler_output'],
  );
  const [three, one] = await runModel(asInt32, [{ input_ids: i32([3, 77], rows.flat()) }, { input_ids: i32([1, 77], rows[1]!) }]);
  const [three64] = await runModel(asInt64, [{ input_ids: i64([3, 77], rows.flat()) }]);
  assert.deepEqual(three!.last_hidden_state!.dims, [3, 77, 16]);
  assert.deepEqual(three!.pooler_output!.dims, [3, 16]);
  assert.ok(maxAbsDiff(three!.last_hidden_state!.data, three64!.last_hidden_state!.data) < 1e-5);
  assert.ok(maxAbsDiff(three!.last_hidden_state!.data.slice(77 * 16, 2 * 77 * 16), one!.last_hidden_state!.data) < 1e-5);
});

test('pooler_output is the state at the first end-of-text token, whether padding is <|endoftext|> or "!"', async () => {
  const rows = [tokens([320, 736, 3055], EOS), tokens([539, 320, 2368, 539, 1125], 0)];
  const [out] = await runModel(exportClipTextEncoder(buildClipTextEncoder(TINY, { seed: 2 })), [{ input_ids: i32([2, 77], rows.flat()) }]);
  const last = out!.last_hidden_state!.data;
  const pooled = out!.pooler_output!.data;
  const eosAt = [4, 6];
  eosAt.forEach((pos, b) => {
    const want = last.slice((b * 77 + pos) * 16, (b * 77 + pos + 1) * 16);
    assert.ok(maxAbsDiff(pooled.slice(b * 16, (b + 1) * 16), want) < 1e-6, `row ${b}`);
  });
});

test('the encoder is causal: a token changes the states at and after it, never before', async () => {
  const a = tokens([320, 736, 3055], EOS);
  const b = [...a];
  b[2] = 1929; // change the 2nd word
  const [out] = await runModel(exportClipTextEncoder(buildClipTextEncoder(TINY, { seed: 3 })), [{ input_ids: i32([2, 77], [...a, ...b]) }]);
  const last = out!.last_hidden_state!.data;
  const at = (row: number, pos: number): Float32Array => last.slice((row * 77 + pos) * 16, (row * 77 + pos + 1) * 16);
  assert.ok(maxAbsDiff(at(0, 1), at(1, 1)) < 1e-6, 'position before the change');
  assert.ok(maxAbsDiff(at(0, 2), at(1, 2)) > 1e-4, 'the changed position');
  assert.ok(maxAbsDiff(at(0, 10), at(1, 10)) > 1e-4, 'a later position');
});

test("CLIP parameter names follow transformers (196 tensors in ViT-L/14's text model); config errors name the field", () => {
  const names = new Set(buildClipTextEncoder(SD15_TEXT, { init: 'zeros' }).graph.params.keys());
  assert.equal(names.size, 196);
  for (const n of [
    'text_model.embeddings.token_embedding.weight',
    'text_model.embeddings.position_embedding.weight',
    'text_model.encoder.layers.0.self_attn.q_proj.weight',
    'text_model.encoder.layers.11.self_attn.out_proj.bias',
    'text_model.encoder.layers.5.mlp.fc1.weight',
    'text_model.encoder.layers.5.layer_norm2.bias',
    'text_model.final_layer_norm.weight',
  ])
    assert.ok(names.has(n), n);
  assert.throws(() => clipTextConfig({ hidden_size: 10, num_attention_heads: 3 }), /hidden_size 10 must divide by num_attention_heads 3/);
  assert.throws(() => clipTextConfig({ hidden_act: 'relu' as 'gelu' }), /hidden_act "relu"/);
});
