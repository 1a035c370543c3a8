/**
 * Multi-head scaled dot-product attention (Vaswani et al., 2017) with separate q/k/v projections, so
 * the same layer does self-attention (context = x) and cross-attention (context = text features of
 * another width). Parameter names follow diffusers' Attention (to_q, to_k, to_v, to_out).
 */
import { InputError, ShapeError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { add, attention, matmul, mul, reshape, softmax, transpose, transposeLast, where } from '../graph/ops/index.ts';
import { formatShape } from '../graph/types.ts';
import type { WeightInit } from './init.ts';
import { expectInput, nameOf, positiveInt } from './layer.ts';
import { Linear } from './linear.ts';

export interface MultiHeadAttentionConfig {
  /** Width D of the queries x and of the output. */
  dim: number;
  heads: number;
  /** Width Dc of the context keys and values are made from; default `dim`. */
  contextDim?: number;
  /** Width of each head; default dim / heads. */
  headDim?: number;
  /** Bias on the q/k/v projections: default false as diffusers; true as torch.nn.MultiheadAttention. */
  qkvBias?: boolean;
  /** Bias on the output projection; default true. */
  outBias?: boolean;
  init?: WeightInit;
  /**
   * Names of the four projections, so a model's parameters carry its checkpoint's names. Default
   * diffusers' `to_q`, `to_k`, `to_v`, `to_out` (diffusers' state dicts say `to_out.0`; CLIP says
   * `q_proj`, `k_proj`, `v_proj`, `out_proj`).
   */
  names?: { q?: string; k?: string; v?: string; out?: string };
}

export interface AttentionOptions {
  /** (B, S, Dc) keys and values come from; default x itself (self-attention). */
  context?: Tensor;
  /**
   * Broadcastable to (B, heads, T, S). bool: true where a query may attend to a key (as PyTorch's
   * scaled_dot_product_attention); float32: added to the scores (0 or a large negative number).
   */
  mask?: Tensor;
  /** Query i attends to keys j <= i only. */
  causal?: boolean;
}

/** Score for keys that are masked out: exp() of it underflows to 0 without the NaNs -Infinity gives on a fully masked row. */
const MASKED = -1e9;

export class MultiHeadAttention {
  readonly toQ: Linear;
  readonly toK: Linear;
  readonly toV: Linear;
  readonly toOut: Linear;
  readonly name: string;
  readonly heads: number;
  readonly headDim: number;
  readonly contextDim: number;

  constructor(
    g: Graph,
    name: string,
    readonly config: MultiHeadAttentionConfig,
    rng: Rng,
  ) {
    const label = `MultiHeadAttention "${name}"`;
    const dim = positiveInt(label, 'dim', config.dim);
    this.heads = positiveInt(label, 'heads', config.heads);
    if (config.headDim === undefined && dim % this.heads !== 0)
      throw new InputError(`${label}: dim ${dim} must divide by heads ${this.heads} (or give headDim)`);
    this.headDim = positiveInt(label, 'headDim', config.headDim ?? dim / this.heads);
    this.contextDim = positiveInt(label, 'contextDim', config.contextDim ?? dim);
    const inner = this.heads * this.headDim;
    const qkv = { bias: config.qkvBias ?? false, init: config.init ?? 'pytorch' };
    const names = { q: 'to_q', k: 'to_k', v: 'to_v', out: 'to_out', ...config.names };
    const parts = g.scope(name, () => ({
      q: new Linear(g, names.q, { in: dim, out: inner, ...qkv }, rng),
      k: new Linear(g, names.k, { in: this.contextDim, out: inner, ...qkv }, rng),
      v: new Linear(g, names.v, { in: this.contextDim, out: inner, ...qkv }, rng),
      out: new Linear(g, names.out, { in: inner, out: dim, bias: config.outBias ?? true, init: config.init ?? 'pytorch' }, rng),
    }));
    this.toQ = parts.q;
    this.toK = parts.k;
    this.toV = parts.v;
    this.toOut = parts.out;
    this.name = nameOf(this.toQ.weight, `${names.q}.weight`);
  }

  /** x (B, T, D), context (B, S, Dc) -> (B, T, D) */
  forward(x: Tensor, options: AttentionOptions = {}): Tensor {
    const { dim } = this.config;
    const label = `MultiHeadAttention "${this.name}" (dim ${dim}, context ${this.contextDim}, ${this.heads} heads)`;
    expectInput(x.dtype === 'float32' && x.rank === 3 && x.shape[2] === dim, label, `float32 x (B, T, ${dim})`, x);
    const context = options.context ?? x;
    const [b, t] = x.shape as [number, number];
    expectInput(
      context.dtype === 'float32' && context.rank === 3 && context.shape[0] === b && context.shape[2] === this.contextDim,
      label,
      `float32 (${b}, S, ${this.contextDim}) for x ${formatShape(x.shape)}`,
      context,
      'context',
    );
    const s = context.shape[1];

    const q = this.splitHeads(mul(this.toQ.forward(x), 1 / Math.sqrt(this.headDim))); // (B, H, T, dh), pre-scaled
    const k = this.splitHeads(this.toK.forward(context)); // (B, H, S, dh)
    const v = this.splitHeads(this.toV.forward(context)); // (B, H, S, dh)
    let attended: Tensor; // (B, H, T, dh)
    if (!options.mask && !options.causal) {
      // One composite node: the same ONNX nodes, but its gradient recomputes the (T, S) probabilities.
      attended = attention(q, k, v);
    } else {
      let scores = matmul(q, transposeLast(k)); // (B, H, T, S)
      if (options.mask) scores = this.applyMask(scores, options.mask, label);
      if (options.causal) {
        const allowed = Uint8Array.from({ length: t * s }, (_, i) => (i % s <= Math.floor(i / s) ? 1 : 0));
        scores = where(x.graph.constant(allowed, [t, s], 'bool', 'causal_mask'), scores, MASKED);
      }
      attended = matmul(softmax(scores, -1), v);
    }
    const merged = reshape(transpose(attended, [0, 2, 1, 3]), [b, t, this.heads * this.headDim]); // (B, T, H*dh)
    return this.toOut.forward(merged); // (B, T, D)
  }

  /** (B, L, H*dh) -> (B, H, L, dh) */
  private splitHeads(y: Tensor): Tensor {
    const [b, l] = y.shape as [number, number];
    return transpose(reshape(y, [b, l, this.heads, this.headDim]), [0, 2, 1, 3]);
  }

  private applyMask(scores: Tensor, mask: Tensor, label: string): Tensor {
    const fits = mask.rank <= 4 && mask.shape.every((d, i) => d === 1 || d === scores.shape[4 - mask.rank + i]);
    if (!fits || (mask.dtype !== 'bool' && mask.dtype !== 'float32')) {
      throw new ShapeError(
        `${label}: mask ${mask.dtype} ${formatShape(mask.shape)} must be bool or float32 and broadcast to scores ${formatShape(scores.shape)} (B, heads, T, S)`,
      );
    }
    return mask.dtype === 'bool' ? where(mask, scores, MASKED) : add(scores, mask);
  }
}
