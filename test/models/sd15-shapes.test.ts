import assert from 'node:assert/strict';
import test from 'node:test';
import { countFlops, flopsByOp } from '../../src/graph/flops.ts';
import { Graph } from '../../src/graph/graph.ts';
import { conv, convTranspose, gemm, matmul } from '../../src/graph/ops/index.ts';
import { buildVaeDecoder, buildVaeEncoder } from '../../src/models/autoencoder-kl.ts';
import { buildClipTextEncoder } from '../../src/models/clip-text-encoder.ts';
import { buildSd15Unet, fastRandomWeights, SD15_PARAM_COUNTS, SD15_TEXT, SD15_VAE } from '../../src/models/fixtures/sd15-shapes.ts';
import { buildUNet2DCondition, unetConfig } from '../../src/models/unet2d-condition.ts';

// Built with zero weights: zero-filled arrays are not touched, so 860M parameters cost no real memory.

test("SD 1.5 UNet: diffusers' published 859,520,964 parameters; about 803 GFLOPs per sample at a 64x64 latent", () => {
  const unet = buildSd15Unet({ init: 'zeros', batch: 1 });
  assert.equal(SD15_PARAM_COUNTS.unet, 859_520_964);
  assert.equal(unet.graph.paramCount(), SD15_PARAM_COUNTS.unet);
  // 338.6 G MACs in convs and projections (BK-SDM, Kim et al. 2023, report 339G MACs for this UNet) plus
  // 63.0 G in the attention products QKᵀ and AV, mostly the 4096-token self-attention at 64x64.
  assert.equal(countFlops(unet.graph), 803_273_441_280);
});

test('SD 1.5 VAE (encoder, decoder, quant convs) has 83,653,863 parameters', () => {
  const enc = buildVaeEncoder(SD15_VAE, { init: 'zeros', height: 64, width: 64 });
  const dec = buildVaeDecoder(SD15_VAE, { init: 'zeros', height: 64, width: 64 });
  assert.equal(enc.graph.paramCount() + dec.graph.paramCount(), 83_653_863);
});

test('SD 1.5 text encoder (CLIP ViT-L/14 text) has 123,060,480 parameters', () => {
  assert.equal(buildClipTextEncoder(SD15_TEXT, { init: 'zeros' }).graph.paramCount(), 123_060_480);
});

test('countFlops: 2 x multiply-accumulates of MatMul, Gemm, Conv, ConvTranspose; elementwise ignored', () => {
  const g = new Graph();
  const x = g.input('x', [2, 3, 8, 8]);
  const w = g.input('w', [4, 3, 3, 3]);
  const y = conv(x, w, null, { pads: 1 }); // (2, 4, 8, 8): 512 outputs x 27 MACs
  const wt = g.input('wt', [4, 5, 2, 2]);
  const up = convTranspose(y, wt, null, { strides: [2, 2] }); // 512 inputs x 20 MACs
  const a = g.input('a', [6, 7, 10]);
  const b = g.input('b', [10, 3]);
  const m = matmul(a, b); // 126 outputs x 10
  const c = gemm(g.input('c', [5, 4]), g.input('d', [9, 4]), null, { transB: true }); // 45 x 4
  assert.deepEqual(flopsByOp(g), { Conv: 2 * 512 * 27, ConvTranspose: 2 * 512 * 20, MatMul: 2 * 126 * 10, Gemm: 2 * 45 * 4 });
  assert.equal(countFlops(g), 2 * (512 * 27 + 512 * 20 + 126 * 10 + 45 * 4));
  assert.equal(countFlops(g, [m, c]), 2 * (126 * 10 + 45 * 4));
  assert.ok(up);
});

test('fastRandomWeights fills zero-built weights within the kaiming bound and leaves vectors alone', () => {
  const cfg = unetConfig({
    sample_size: 4,
    block_out_channels: [8, 16],
    layers_per_block: 1,
    norm_num_groups: 4,
    cross_attention_dim: 8,
    attention_head_dim: 2,
    down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
    up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
  });
  const { graph } = buildUNet2DCondition(cfg, { init: 'zeros' });
  fastRandomWeights(graph, 5);
  for (const p of graph.params.values()) {
    const bound = 1 / Math.sqrt(p.tensor.shape.slice(1).reduce((a, b) => a * b, 1));
    if (p.tensor.rank >= 2) {
      assert.ok(
        p.value.some((v) => v !== 0),
        p.name,
      );
      assert.ok(
        p.value.every((v) => Math.abs(v) <= bound),
        p.name,
      );
    } else
      assert.ok(
        p.value.every((v) => v === (p.name.includes('norm') && p.name.endsWith('weight') ? 1 : 0)),
        p.name,
      );
  }
});
