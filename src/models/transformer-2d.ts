/**
 * The attention part of Stable Diffusion's UNet: diffusers' Transformer2DModel (continuous input) with
 * BasicTransformerBlocks, same parameter names. Per block, on tokens h (B, HW, C):
 *   h = attn1(norm1(h)) + h                  self-attention over the image positions
 *   h = attn2(norm2(h), context) + h         cross-attention to the text states (B, S, D)
 *   h = ff(norm3(h)) + h                     GEGLU feed-forward, width 4C
 * around it: GroupNorm, proj_in (1x1 conv, or Linear when use_linear_projection), the blocks, proj_out,
 * plus the input (a residual over the whole module).
 */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { add, gelu, mul, reshape, reshapeLike, split, transpose } from '../graph/ops/index.ts';
import { Conv2d, GroupNorm, LayerNorm, Linear, MultiHeadAttention, type WeightInit } from '../nn/index.ts';

export interface Transformer2DConfig {
  /** Channels C of the feature map (and the width of the tokens). */
  channels: number;
  heads: number;
  headDim: number;
  /** Width D of the text states the cross-attention reads. */
  crossAttentionDim: number;
  /** GroupNorm groups of the input norm. */
  groups: number;
  /** Linear proj_in/proj_out (SD 2.x) instead of 1x1 convs (SD 1.x). */
  useLinearProjection: boolean;
  /** BasicTransformerBlocks in a row (diffusers' transformer_layers_per_block; 1 in SD 1.x/2.x). */
  layers: number;
  init: WeightInit;
}

/** diffusers' FeedForward with GEGLU (Shazeer, 2020): net.0.proj (C -> 2·4C), gate by GELU, net.2 (4C -> C). */
class GegluFeedForward {
  readonly proj: Linear;
  readonly out: Linear;

  constructor(
    g: Graph,
    name: string,
    readonly dim: number,
    rng: Rng,
    init: WeightInit,
  ) {
    const inner = 4 * dim;
    [this.proj, this.out] = g.scope(name, () =>
      g.scope('net', () => [
        g.scope('0', () => new Linear(g, 'proj', { in: dim, out: 2 * inner, init }, rng)),
        new Linear(g, '2', { in: inner, out: dim, init }, rng), // net.1 is a dropout: no parameters
      ]),
    );
  }

  /** (B, T, C) -> (B, T, C) */
  forward(x: Tensor): Tensor {
    const inner = 4 * this.dim;
    const [hidden, gate] = split(this.proj.forward(x), [inner, inner], -1) as [Tensor, Tensor]; // (B, T, 4C) each
    return this.out.forward(mul(hidden, gelu(gate)));
  }
}

class BasicTransformerBlock {
  readonly norm1: LayerNorm;
  readonly attn1: MultiHeadAttention;
  readonly norm2: LayerNorm;
  readonly attn2: MultiHeadAttention;
  readonly norm3: LayerNorm;
  readonly ff: GegluFeedForward;

  constructor(g: Graph, name: string, c: Transformer2DConfig, rng: Rng) {
    const dim = c.heads * c.headDim;
    // diffusers' Attention: no bias on q/k/v, bias on the output projection, which it names to_out.0.
    const attn = { dim, heads: c.heads, headDim: c.headDim, qkvBias: false, init: c.init, names: { out: 'to_out.0' } };
    const parts = g.scope(name, () => ({
      norm1: new LayerNorm(g, 'norm1', { dim }),
      attn1: new MultiHeadAttention(g, 'attn1', attn, rng),
      norm2: new LayerNorm(g, 'norm2', { dim }),
      attn2: new MultiHeadAttention(g, 'attn2', { ...attn, contextDim: c.crossAttentionDim }, rng),
      norm3: new LayerNorm(g, 'norm3', { dim }),
      ff: new GegluFeedForward(g, 'ff', dim, rng, c.init),
    }));
    ({ norm1: this.norm1, attn1: this.attn1, norm2: this.norm2, attn2: this.attn2, norm3: this.norm3, ff: this.ff } = parts);
  }

  /** h (B, T, C), context (B, S, D) -> (B, T, C) */
  forward(h: Tensor, context: Tensor): Tensor {
    h = add(this.attn1.forward(this.norm1.forward(h)), h);
    h = add(this.attn2.forward(this.norm2.forward(h), { context }), h);
    return add(this.ff.forward(this.norm3.forward(h)), h);
  }
}

/** (B, C, H, W) -> (B, HW, C); -1 keeps the spatial size free for exports with dynamic H, W. */
export function toTokens(x: Tensor): Tensor {
  const [b, c] = x.shape as [number, number];
  return transpose(reshape(x, [b, c, -1]), [0, 2, 1]);
}

/** (B, HW, C) -> the runtime shape of `like` (B, C, H, W). */
export function toImage(tokens: Tensor, like: Tensor): Tensor {
  return reshapeLike(transpose(tokens, [0, 2, 1]), like);
}

export class Transformer2D {
  readonly norm: GroupNorm;
  readonly projIn: Linear | Conv2d;
  readonly blocks: BasicTransformerBlock[];
  readonly projOut: Linear | Conv2d;

  constructor(
    g: Graph,
    name: string,
    readonly config: Transformer2DConfig,
    rng: Rng,
  ) {
    const { channels, init } = config;
    const inner = config.heads * config.headDim;
    const proj = (n: string, from: number, to: number): Linear | Conv2d =>
      config.useLinearProjection ? new Linear(g, n, { in: from, out: to, init }, rng) : new Conv2d(g, n, { in: from, out: to, kernel: 1, init }, rng);
    const parts = g.scope(name, () => ({
      norm: new GroupNorm(g, 'norm', { groups: config.groups, channels, eps: 1e-6 }),
      projIn: proj('proj_in', channels, inner),
      blocks: g.scope('transformer_blocks', () => Array.from({ length: config.layers }, (_, i) => new BasicTransformerBlock(g, String(i), config, rng))),
      projOut: proj('proj_out', inner, channels),
    }));
    ({ norm: this.norm, projIn: this.projIn, blocks: this.blocks, projOut: this.projOut } = parts);
  }

  /** x (B, C, H, W), context (B, S, D) -> (B, C, H, W) */
  forward(x: Tensor, context: Tensor): Tensor {
    const normed = this.norm.forward(x); // (B, C, H, W)
    const blocks = (h: Tensor): Tensor => this.blocks.reduce((t, block) => block.forward(t, context), h); // (B, HW, inner)
    if (this.projIn instanceof Linear && this.projOut instanceof Linear) {
      const h = blocks(this.projIn.forward(toTokens(normed))); // (B, HW, inner)
      return add(toImage(this.projOut.forward(h), x), x); // (B, C, H, W)
    }
    const projected = this.projIn.forward(normed); // (B, inner, H, W)
    const h = blocks(toTokens(projected)); // (B, HW, inner)
    return add(this.projOut.forward(toImage(h, projected)), x); // (B, C, H, W)
  }
}
