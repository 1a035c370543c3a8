/** Linear: y = x Wᵀ + b over the last dim, with PyTorch's parameter layout. */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { add, gemm, matmul, mul, reshape, transpose } from '../graph/ops/index.ts';
import { initWeightAndBias, type WeightInit } from './init.ts';
import { expectInput, nameOf, positiveInt } from './layer.ts';

export interface LinearConfig {
  in: number;
  out: number;
  /** Default true. */
  bias?: boolean;
  /** Default 'pytorch'. */
  init?: WeightInit;
}

export class Linear {
  /** (out, in), as PyTorch stores it. */
  readonly weight: Tensor;
  /** (out), or null without bias. */
  readonly bias: Tensor | null;
  readonly name: string;
  /**
   * A low-rank adapter (LoRA, Hu et al. 2021) added to this layer's output: y += scale · (x downᵀ) upᵀ,
   * with down (r, in) and up (out, r). Set by `attachLora` (src/train/finetune); null otherwise.
   */
  lora: { down: Tensor; up: Tensor; scale: number } | null = null;

  constructor(
    g: Graph,
    name: string,
    readonly config: LinearConfig,
    rng: Rng,
  ) {
    const label = `Linear "${name}"`;
    const inF = positiveInt(label, 'in', config.in);
    const outF = positiveInt(label, 'out', config.out);
    const init = initWeightAndBias(rng, config.init ?? 'pytorch', [outF, inF], config.bias === false ? null : outF);
    const [weight, bias] = g.scope(name, () => [g.param('weight', [outF, inF], init.weight), init.bias ? g.param('bias', [outF], init.bias) : null]);
    this.weight = weight as Tensor;
    this.bias = bias ?? null;
    this.name = nameOf(this.weight, 'weight');
  }

  /** (..., in) -> (..., out) */
  forward(x: Tensor): Tensor {
    const { in: inF } = this.config;
    expectInput(x.dtype === 'float32' && x.rank >= 1 && x.shape[x.rank - 1] === inF, `Linear "${this.name}" (in ${inF})`, `float32 (..., ${inF})`, x);
    const y = project(x, this.weight, this.bias); // (..., out)
    if (!this.lora) return y;
    const { down, up, scale } = this.lora;
    return add(y, mul(project(project(x, down, null), up, null), scale)); // (..., r) -> (..., out)
  }
}

/** x (..., in) times wᵀ for w (out, in), plus bias: (..., out). */
function project(x: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  const [outF, inF] = w.shape as [number, number];
  if (x.rank === 2) return gemm(x, w, bias, { transB: true }); // (N, out)
  if (x.rank === 1) return reshape(gemm(reshape(x, [1, inF]), w, bias, { transB: true }), [outF]); // (out)
  // Other ranks: MatMul with Wᵀ broadcasts over the leading dims, so no reshape bakes their sizes in and
  // an export with dynamic batch/sequence dims stays right (ORT folds the Transpose of a constant weight).
  const y = matmul(x, transpose(w, [1, 0])); // (..., out)
  return bias ? add(y, bias) : y;
}
