import assert from 'node:assert/strict';
import test from 'node:test';
import { RULES, type GradRule } from '../../src/autodiff/rules.ts';
import { mul } from '../../src/graph/ops/index.ts';
import { UNet2DCondition, unetConfig } from '../../src/models/unet2d-condition.ts';
import { gradCheck, type GradCase } from '../helpers/gradcheck.ts';

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

const ATTN = 'down_blocks.1.attentions.0.transformer_blocks.0';
const CHECKED = [
  'conv_in.weight',
  'time_embedding.linear_1.weight',
  'down_blocks.0.resnets.0.conv1.weight',
  `${ATTN}.attn1.to_q.weight`,
  `${ATTN}.attn2.to_k.weight`,
  `${ATTN}.attn2.to_v.weight`,
  `${ATTN}.ff.net.0.proj.weight`,
  `${ATTN}.norm2.weight`,
  'down_blocks.1.attentions.0.proj_in.weight',
  'up_blocks.0.attentions.1.proj_out.bias',
  'mid_block.attentions.0.norm.bias',
  'conv_out.weight',
];

const unetCase: GradCase = {
  build(g, rng) {
    const model = new UNet2DCondition(g, TINY, rng);
    // Non-trivial norms, so their parameters' gradients are tested too.
    for (const p of g.params.values()) if (/norm/.test(p.name)) p.value = rng.normal(p.value.length, 0.3, p.name.endsWith('weight') ? 1 : 0);
    const sample = g.input('sample', [1, 4, 4, 4]);
    const timestep = g.input('timestep', [1]);
    const context = g.input('encoder_hidden_states', [1, 3, 6]);
    const params = CHECKED.map((n) => {
      const p = g.params.get(n);
      if (!p) throw new Error(`no parameter ${n}`);
      return p.tensor;
    });
    return { wrt: [sample, context, ...params], out: model.forward(sample, timestep, context) };
  },
  points: 6,
};

test('gradients through a tiny UNet with cross-attention match finite differences (inputs and parameters)', async () => {
  const { failures } = await gradCheck(unetCase, 7);
  assert.deepEqual(failures, []);
});

test('the UNet gradient check can fail: a wrong attention rule breaks it', async () => {
  // The UNet's attention is the composite Attention node (no mask), with its own rule.
  const right = RULES['Attention'] as GradRule;
  RULES['Attention'] = (n, gys) => right(n, gys).map((gx) => (gx ? mul(gx, 1.5) : null));
  try {
    const { failures } = await gradCheck(unetCase, 7);
    assert.ok(
      failures.some((f) => f.includes('attn2.to_k')),
      failures.join('\n'),
    );
  } finally {
    RULES['Attention'] = right;
  }
});
