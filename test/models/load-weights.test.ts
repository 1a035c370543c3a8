import assert from 'node:assert/strict';
import test from 'node:test';
import { Rng } from '../../src/core/rng.ts';
import { loadWeightsIntoGraph } from '../../src/models/load-weights.ts';
import { buildUNet2DCondition, exportUNet, unetConfig } from '../../src/models/unet2d-condition.ts';
import { float32ToFloat16 } from '../../src/weights/half.ts';
import { encodeSafetensors, readSafetensors, type SafetensorsTensor } from '../../src/weights/safetensors.ts';
import { f32, i64, maxAbsDiff, runModel } from './helpers.ts';

const CONV = unetConfig({
  sample_size: 4,
  block_out_channels: [8, 16],
  layers_per_block: 1,
  norm_num_groups: 4,
  cross_attention_dim: 8,
  attention_head_dim: 2,
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
});
const LINEAR = unetConfig({ ...CONV, use_linear_projection: true });

/** The graph's parameters as a safetensors file (F32, or F16 for the names in `half`). */
function checkpoint(
  params: Iterable<{ name: string; tensor: { shape: readonly number[] }; value: Float32Array }>,
  options: { prefix?: string; half?: Set<string>; extra?: Record<string, SafetensorsTensor> } = {},
) {
  const tensors: Record<string, SafetensorsTensor> = { ...options.extra };
  for (const p of params) {
    tensors[`${options.prefix ?? ''}${p.name}`] = options.half?.has(p.name)
      ? { dtype: 'F16', shape: [...p.tensor.shape], data: float32ToFloat16(p.value) }
      : { dtype: 'F32', shape: [...p.tensor.shape], data: p.value };
  }
  return readSafetensors(encodeSafetensors(tensors));
}

async function outputOf(built: ReturnType<typeof buildUNet2DCondition>): Promise<Float32Array> {
  const rng = new Rng(9);
  const [out] = await runModel(exportUNet(built), [
    { sample: f32([1, 4, 4, 4], rng.normal(64)), timestep: i64([1], [300]), encoder_hidden_states: f32([1, 77, 8], rng.normal(616)) },
  ]);
  return out!.out_sample!.data;
}

test('weights from safetensors reproduce the source model; F16 tensors widen; 1x1 conv weights fit Linear projections', async () => {
  const source = buildUNet2DCondition(CONV, { seed: 1 });
  const target = buildUNet2DCondition(CONV, { seed: 2 });
  const before = await outputOf(target);
  const report = loadWeightsIntoGraph(target.graph, checkpoint(source.graph.params.values(), { prefix: 'unet.' }), { prefix: 'unet.', strict: true });
  assert.equal(report.loaded, source.graph.params.size);
  const want = await outputOf(source);
  assert.ok(maxAbsDiff(await outputOf(target), want) < 1e-5);
  assert.ok(maxAbsDiff(before, want) > 1e-3, 'the seeds gave different models to begin with');

  // SD 2.x-style Linear proj_in/proj_out take SD 1.x-style (C, C, 1, 1) weights.
  const linear = buildUNet2DCondition(LINEAR, { seed: 3 });
  loadWeightsIntoGraph(linear.graph, checkpoint(source.graph.params.values()), { strict: true });
  assert.ok(maxAbsDiff(await outputOf(linear), want) < 1e-5);

  // Half-precision tensors are widened.
  const half = new Set(['conv_in.weight', 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight']);
  const fromHalf = buildUNet2DCondition(CONV, { seed: 4 });
  loadWeightsIntoGraph(fromHalf.graph, checkpoint(source.graph.params.values(), { half }));
  assert.ok(maxAbsDiff(await outputOf(fromHalf), want) < 1e-2);
});

test('missing tensors, wrong shapes and (in strict mode) foreign tensors are refused, and nothing changes', () => {
  const source = buildUNet2DCondition(CONV, { seed: 1 });
  const target = buildUNet2DCondition(CONV, { seed: 2 });
  const original = Float32Array.from(target.graph.params.get('conv_in.weight')!.value);
  const all = [...source.graph.params.values()];
  assert.throws(
    () => loadWeightsIntoGraph(target.graph, checkpoint(all.filter((p) => p.name !== 'conv_out.bias'))),
    /1 of the model's \d+ parameters are missing, e.g. "conv_out.bias"/,
  );
  const wrong = all.map((p) => (p.name === 'conv_out.weight' ? { ...p, tensor: { shape: [4, 8, 1, 9] }, value: new Float32Array(4 * 8 * 9) } : p));
  assert.throws(
    () => loadWeightsIntoGraph(target.graph, checkpoint(wrong)),
    /"conv_out.weight" has shape \[4, 8, 1, 9\], the model's parameter needs \[4, 8, 3, 3\]/,
  );
  const extra = { 'exp_avg.conv_in.weight': { dtype: 'F32' as const, shape: [1], data: new Float32Array(1) } };
  assert.throws(
    () => loadWeightsIntoGraph(target.graph, checkpoint(all, { extra }), { strict: true }),
    /not parameters of this model, e.g. "exp_avg.conv_in.weight"/,
  );
  assert.deepEqual(target.graph.params.get('conv_in.weight')!.value, original);
  assert.deepEqual(loadWeightsIntoGraph(target.graph, checkpoint(all, { extra })).unused, ['exp_avg.conv_in.weight']);
});

test("preferEma takes a training checkpoint's averaged weights", () => {
  const source = buildUNet2DCondition(CONV, { seed: 1 });
  const target = buildUNet2DCondition(CONV, { seed: 2 });
  const ema = new Float32Array(8).fill(0.25);
  const file = checkpoint(source.graph.params.values(), { extra: { 'ema.conv_in.bias': { dtype: 'F32', shape: [8], data: ema } } });
  loadWeightsIntoGraph(target.graph, file, { preferEma: true, strict: true });
  assert.deepEqual(target.graph.params.get('conv_in.bias')!.value, ema);
  assert.deepEqual(target.graph.params.get('conv_out.bias')!.value, source.graph.params.get('conv_out.bias')!.value);
});
