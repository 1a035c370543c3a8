import assert from 'node:assert/strict';
import test from 'node:test';
import { Rng } from '../../src/core/rng.ts';
import { buildVaeDecoder, buildVaeEncoder, exportVaeDecoder, exportVaeEncoder, vaeConfig, vaeScaleFactor } from '../../src/models/autoencoder-kl.ts';
import { SD15_VAE } from '../../src/models/fixtures/sd15-shapes.ts';
import { f32, maxAbs, maxAbsDiff, runModel } from './helpers.ts';

// Four levels as SD (8 pixels per latent), tiny channels.
const TINY = vaeConfig({ block_out_channels: [4, 8, 8, 8], layers_per_block: 1, norm_num_groups: 4, latent_channels: 4, sample_size: 32 });

test('VAE encoder built at 1x3x32x32 runs at batch 2, 48x64 as one built at that size; output is mean and log-variance', async () => {
  const dynamic = exportVaeEncoder(buildVaeEncoder(TINY, { seed: 1, height: 32, width: 32 }));
  const fixed = exportVaeEncoder(buildVaeEncoder(TINY, { seed: 1, batch: 2, height: 48, width: 64 }));
  assert.deepEqual(
    dynamic.inputs.map((i) => i.name),
    ['sample'],
  );
  assert.deepEqual(
    dynamic.outputs.map((o) => [o.name, o.shape[1]]),
    [['latent_sample', 8]],
  );
  const rng = new Rng(1);
  const big = { sample: f32([2, 3, 48, 64], rng.normal(2 * 3 * 48 * 64)) };
  const [a, small] = await runModel(dynamic, [big, { sample: f32([1, 3, 32, 32], rng.normal(3 * 32 * 32)) }]);
  const [b] = await runModel(fixed, [big]);
  assert.deepEqual(a!.latent_sample!.dims, [2, 8, 6, 8]);
  assert.deepEqual(small!.latent_sample!.dims, [1, 8, 4, 4]);
  assert.ok(maxAbs(a!.latent_sample!.data) > 1e-3);
  assert.ok(maxAbsDiff(a!.latent_sample!.data, b!.latent_sample!.data) < 1e-4);
});

test('VAE decoder built at 4x4 latents runs at batch 3, 5x7 latents as one built at that size', async () => {
  const dynamic = exportVaeDecoder(buildVaeDecoder(TINY, { seed: 2, height: 32, width: 32 }));
  const fixed = exportVaeDecoder(buildVaeDecoder(TINY, { seed: 2, batch: 3, height: 40, width: 56 }));
  assert.deepEqual(
    dynamic.inputs.map((i) => [i.name, i.shape[1]]),
    [['latent_sample', 4]],
  );
  assert.deepEqual(
    dynamic.outputs.map((o) => o.name),
    ['sample'],
  );
  const rng = new Rng(2);
  const big = { latent_sample: f32([3, 4, 5, 7], rng.normal(3 * 4 * 5 * 7)) };
  const [a] = await runModel(dynamic, [big]);
  const [b] = await runModel(fixed, [big]);
  assert.deepEqual(a!.sample!.dims, [3, 3, 40, 56]);
  assert.ok(maxAbs(a!.sample!.data) > 1e-3);
  assert.ok(maxAbsDiff(a!.sample!.data, b!.sample!.data) < 1e-4);
});

test('VAE parameter names are diffusers AutoencoderKL state-dict names; SD 1.5 VAE has 248 tensors', () => {
  const enc = buildVaeEncoder(SD15_VAE, { init: 'zeros', height: 64, width: 64 });
  const dec = buildVaeDecoder(SD15_VAE, { init: 'zeros', height: 64, width: 64 });
  const names = new Set([...enc.graph.params.keys(), ...dec.graph.params.keys()]);
  assert.equal(names.size, 248);
  for (const n of [
    'encoder.conv_in.weight',
    'encoder.down_blocks.0.downsamplers.0.conv.weight',
    'encoder.down_blocks.1.resnets.0.conv_shortcut.weight',
    'encoder.mid_block.attentions.0.group_norm.weight',
    'encoder.mid_block.attentions.0.to_q.bias',
    'encoder.mid_block.attentions.0.to_out.0.weight',
    'encoder.conv_norm_out.bias',
    'encoder.conv_out.weight',
    'quant_conv.weight',
    'post_quant_conv.bias',
    'decoder.conv_in.weight',
    'decoder.mid_block.resnets.1.norm2.weight',
    'decoder.up_blocks.0.upsamplers.0.conv.weight',
    'decoder.up_blocks.2.resnets.0.conv_shortcut.weight',
    'decoder.up_blocks.3.resnets.2.conv2.bias',
    'decoder.conv_out.bias',
  ])
    assert.ok(names.has(n), n);
  assert.equal(vaeScaleFactor(SD15_VAE), 8);
});

test('VAE config and sizes: bad values are refused', () => {
  assert.throws(() => vaeConfig({ block_out_channels: [30, 60] }), /norm_num_groups 32/);
  assert.throws(() => vaeConfig({ use_quant_conv: false }), /use_quant_conv/);
  assert.throws(() => vaeConfig({ scaling_factor: 0 }), /scaling_factor/);
  assert.throws(() => buildVaeDecoder(TINY, { height: 36, width: 32 }), /must divide by 8/);
});
