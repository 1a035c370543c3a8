/**
 * The engine benchmark's reference transformer block (bench/REFERENCE.md): pre-LayerNorm, 4 heads of
 * 64 with biased q/k/v/o projections (as torch.nn.MultiheadAttention), GELU MLP 256 -> 1024 -> 256.
 */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { add, gelu } from '../graph/ops/index.ts';
import { LayerNorm, Linear, MultiHeadAttention } from '../nn/index.ts';

export function buildReferenceTransformerBlock(g: Graph, rng: Rng, width = 256, heads = 4, hidden = 1024): { forward(x: Tensor): Tensor } {
  const ln1 = new LayerNorm(g, 'ln1', { dim: width });
  const attn = new MultiHeadAttention(g, 'attn', { dim: width, heads, qkvBias: true }, rng);
  const ln2 = new LayerNorm(g, 'ln2', { dim: width });
  const fc1 = new Linear(g, 'mlp.fc1', { in: width, out: hidden }, rng);
  const fc2 = new Linear(g, 'mlp.fc2', { in: hidden, out: width }, rng);
  return {
    forward(x: Tensor): Tensor {
      const h = add(x, attn.forward(ln1.forward(x))); // (B, T, D)
      return add(h, fc2.forward(gelu(fc1.forward(ln2.forward(h))))); // (B, T, D)
    },
  };
}
