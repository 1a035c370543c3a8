import assert from 'node:assert/strict';
import test from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { Rng } from '../../src/core/rng.ts';
import { buildUNet2DCondition, exportUNet, headsPerLevel, unetConfig } from '../../src/models/unet2d-condition.ts';
import { SD15_UNET } from '../../src/models/fixtures/sd15-shapes.ts';
import { f32, i64, maxAbs, maxAbsDiff, runModel } from './helpers.ts';

// SD 1.x-shaped but tiny: attention at the second level only, 4 heads (the attention_head_dim quirk).
const TINY = unetConfig({
  sample_size: 8,
  in_channels: 4,
  out_channels: 4,
  block_out_channels: [16, 32],
  layers_per_block: 1,
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
  cross_attention_dim: 12,
  attention_head_dim: 4,
  norm_num_groups: 4,
});

function feeds(rng: Rng, b: number, h: number, w: number, t: number[], inC = 4) {
  return {
    sample: f32([b, inC, h, w], rng.normal(b * inC * h * w)),
    timestep: i64([b], t),
    encoder_hidden_states: f32([b, 77, 12], rng.normal(b * 77 * 12)),
  };
}

test('UNet built at batch 1, 8x8 runs at batch 3, 16x24 exactly as one built at that size (dynamic batch, height, width)', async () => {
  const dynamic = exportUNet(buildUNet2DCondition(TINY, { seed: 3, height: 8, width: 8 }));
  const fixed = exportUNet(buildUNet2DCondition(TINY, { seed: 3, batch: 3, height: 16, width: 24 }));
  const rng = new Rng(1);
  const big = feeds(rng, 3, 16, 24, [1, 500, 999]);
  const small = feeds(rng, 1, 8, 8, [250]);
  const [atBig, atSmall] = await runModel(dynamic, [big, small]);
  const [reference] = await runModel(fixed, [big]);
  assert.deepEqual(atBig?.out_sample?.dims, [3, 4, 16, 24]);
  assert.deepEqual(atSmall?.out_sample?.dims, [1, 4, 8, 8]);
  assert.ok(maxAbs(atBig!.out_sample!.data) > 1e-3, 'output is not all zeros');
  assert.ok(maxAbsDiff(atBig!.out_sample!.data, reference!.out_sample!.data) < 1e-4);
});

test('UNet batch items do not mix: item 1 of a batch of 3 equals that item run alone', async () => {
  const model = exportUNet(buildUNet2DCondition(TINY, { seed: 4 }));
  const rng = new Rng(2);
  const batch = feeds(rng, 3, 8, 8, [10, 400, 900]);
  const n = 4 * 8 * 8;
  const one = {
    sample: f32([1, 4, 8, 8], (batch.sample.data as Float32Array).slice(n, 2 * n)),
    timestep: i64([1], [400]),
    encoder_hidden_states: f32([1, 77, 12], (batch.encoder_hidden_states.data as Float32Array).slice(77 * 12, 2 * 77 * 12)),
  };
  const [all, single] = await runModel(model, [batch, one]);
  assert.ok(maxAbsDiff(all!.out_sample!.data.slice(n, 2 * n), single!.out_sample!.data) < 1e-4);
  // ... and the text does matter: another context changes the output.
  const other = { ...one, encoder_hidden_states: f32([1, 77, 12], rng.normal(77 * 12)) };
  const [changed] = await runModel(model, [other]);
  assert.ok(maxAbsDiff(changed!.out_sample!.data, single!.out_sample!.data) > 1e-4);
});

test('timestep input: int64 and float32 variants compute the same thing; a (1,) timestep serves the batch', async () => {
  const asInt = buildUNet2DCondition(TINY, { seed: 5, timestepDtype: 'int64' });
  const asFloat = buildUNet2DCondition(TINY, { seed: 5, timestepDtype: 'float32' });
  assert.equal(asInt.inputs.timestep.dtype, 'int64');
  assert.equal(asFloat.inputs.timestep.dtype, 'float32');
  const rng = new Rng(3);
  const f = feeds(rng, 2, 8, 8, [1, 981]);
  const [a] = await runModel(exportUNet(asInt), [f]);
  const [b] = await runModel(exportUNet(asFloat), [{ ...f, timestep: f32([2], Float32Array.of(1, 981)) }]);
  assert.ok(maxAbsDiff(a!.out_sample!.data, b!.out_sample!.data) < 1e-5);
  // One timestep of shape (1,) serves a whole batch (it broadcasts), as diffusers expands it.
  const [shared] = await runModel(exportUNet(asInt), [{ ...f, timestep: i64([1], [981]) }]);
  const [repeated] = await runModel(exportUNet(asInt), [{ ...f, timestep: i64([2], [981, 981]) }]);
  assert.ok(maxAbsDiff(shared!.out_sample!.data, repeated!.out_sample!.data) < 1e-5);
  // A different timestep gives a different prediction.
  const [c] = await runModel(exportUNet(asFloat), [{ ...f, timestep: f32([2], Float32Array.of(2, 981)) }]);
  assert.ok(maxAbsDiff(c!.out_sample!.data.slice(0, 256), a!.out_sample!.data.slice(0, 256)) > 1e-6);
});

test('the exported UNet declares SD ONNX names, dtypes and dynamic dims', () => {
  const m = exportUNet(buildUNet2DCondition(TINY, { timestepDtype: 'float32' }));
  assert.deepEqual(
    m.inputs.map((i) => [i.name, i.dtype]),
    [
      ['sample', 'float32'],
      ['timestep', 'float32'],
      ['encoder_hidden_states', 'float32'],
    ],
  );
  assert.deepEqual(
    m.outputs.map((o) => o.name),
    ['out_sample'],
  );
});

test('attention_head_dim is the number of heads (diffusers quirk): SD 1.5 has 8 heads of 40..160, SD 2 heads of width 64', () => {
  assert.deepEqual(headsPerLevel(SD15_UNET), [8, 8, 8, 8]);
  const sd2 = unetConfig({ ...SD15_UNET, cross_attention_dim: 1024, attention_head_dim: [5, 10, 20, 20], use_linear_projection: true });
  const built = buildUNet2DCondition(sd2, { init: 'zeros', height: 8, width: 8, sequence: 4 });
  const widths = built.model.down.flatMap((level) => (level.attentions ?? []).map((a) => a.blocks[0]!.attn1.headDim));
  assert.deepEqual(widths, [64, 64, 64, 64, 64, 64]);
  assert.equal(built.model.mid.attention.blocks[0]!.attn2.headDim, 64);
  // Published count of stabilityai/stable-diffusion-2(-1)'s UNet: SD 1.5's plus wider cross-attention keys/values.
  assert.equal(built.graph.paramCount(), 865_910_724);
  const sd1 = buildUNet2DCondition(SD15_UNET, { init: 'zeros', height: 8, width: 8, sequence: 4 });
  assert.equal(sd1.model.down[0]!.attentions![0]!.blocks[0]!.attn1.headDim, 40);
  assert.equal(sd1.model.down[2]!.attentions![0]!.blocks[0]!.attn1.headDim, 160);
});

test('parameter names are diffusers state-dict names', () => {
  const names = new Set(buildUNet2DCondition(SD15_UNET, { init: 'zeros', height: 8, width: 8, sequence: 4 }).graph.params.keys());
  assert.equal(names.size, 686); // tensors in SD 1.5's diffusion_pytorch_model.safetensors
  for (const n of [
    'conv_in.weight',
    'time_embedding.linear_1.weight',
    'time_embedding.linear_2.bias',
    'down_blocks.0.resnets.0.time_emb_proj.weight',
    'down_blocks.0.attentions.1.proj_in.weight',
    'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0.weight',
    'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight',
    'down_blocks.2.attentions.1.transformer_blocks.0.ff.net.0.proj.weight',
    'down_blocks.2.downsamplers.0.conv.weight',
    'down_blocks.1.resnets.0.conv_shortcut.weight',
    'mid_block.attentions.0.transformer_blocks.0.norm3.bias',
    'mid_block.resnets.1.conv2.weight',
    'up_blocks.0.resnets.2.conv_shortcut.weight',
    'up_blocks.2.upsamplers.0.conv.weight',
    'up_blocks.3.attentions.2.proj_out.bias',
    'conv_norm_out.weight',
    'conv_out.bias',
  ])
    assert.ok(names.has(n), n);
});

test('UNet config: unsupported features and inconsistent lists are refused with the field named', () => {
  assert.throws(
    () => unetConfig({ class_embed_type: 'timestep' }),
    (e: Error) => e instanceof InputError && /class_embed_type/.test(e.message),
  );
  assert.throws(() => unetConfig({ time_cond_proj_dim: 256 }), /time_cond_proj_dim/);
  assert.throws(() => unetConfig({ block_out_channels: [32, 64] }), /down_block_types .* must list 2/);
  assert.throws(() => unetConfig({ attention_head_dim: [8, 8] }), /attention_head_dim/);
  assert.throws(() => unetConfig({ block_out_channels: [30, 60, 120, 120] }), /norm_num_groups 32/);
  assert.throws(() => buildUNet2DCondition(TINY, { height: 9, width: 8 }), /must divide by 2/);
});
