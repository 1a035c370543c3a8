import assert from 'node:assert/strict';
import test from 'node:test';
import { buildTrainStep } from '../../src/autodiff/train-step.ts';
import { Rng } from '../../src/core/rng.ts';
import { Graph, type Tensor } from '../../src/graph/graph.ts';
import { mul, reduceMean, sub } from '../../src/graph/ops/index.ts';
import { UNet2DCondition, unetConfig } from '../../src/models/unet2d-condition.ts';
import { TrainSession } from '../../src/train/train-session.ts';
import { f32 } from './helpers.ts';

// Two levels, cross-attention at the second (as the tiny SD models), 2 heads of width 4.
const TINY = unetConfig({
  sample_size: 4,
  block_out_channels: [8, 8],
  layers_per_block: 1,
  norm_num_groups: 4,
  cross_attention_dim: 6,
  attention_head_dim: 2,
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
});

test('a tiny UNet overfits one batch of noise prediction (buildTrainStep + TrainSession)', async () => {
  const rng = new Rng(3);
  const g = new Graph();
  const model = new UNet2DCondition(g, TINY, rng);
  const noisy = g.input('noisy', [2, 4, 4, 4]);
  const timestep = g.input('timestep', [2], 'int64');
  const context = g.input('encoder_hidden_states', [2, 5, 6]);
  const noise = g.input('noise', [2, 4, 4, 4]);
  const diff = sub(model.forward(noisy, timestep, context), noise);
  const loss: Tensor = reduceMean(mul(diff, diff));
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adam' } });
  assert.deepEqual([...spec.batchInputs].sort(), ['encoder_hidden_states', 'noise', 'noisy', 'timestep']);

  // x_t = sqrt(ᾱ) x0 + sqrt(1 - ᾱ) ε at ᾱ = 0.5, for one fixed batch.
  const n = 2 * 4 * 4 * 4;
  const x0 = rng.normal(n);
  const eps = rng.normal(n);
  const xt = x0.map((v, i) => Math.SQRT1_2 * v + Math.SQRT1_2 * eps[i]);
  const batch = {
    noisy: f32([2, 4, 4, 4], xt),
    timestep: { dtype: 'int64' as const, dims: [2], data: BigInt64Array.of(500n, 500n) },
    encoder_hidden_states: f32([2, 5, 6], rng.normal(60)),
    noise: f32([2, 4, 4, 4], eps),
  };
  const session = await TrainSession.create(g, spec, { inProcess: true });
  try {
    const losses: number[] = [];
    for (let i = 0; i < 15; i++) losses.push((await session.step(batch, 5e-3)).loss);
    const first = losses[0];
    const last = losses[losses.length - 1];
    assert.ok(Number.isFinite(last) && last < 0.5 * first, `loss went ${first.toFixed(4)} -> ${last.toFixed(4)}`);
  } finally {
    await session.release();
  }
});
