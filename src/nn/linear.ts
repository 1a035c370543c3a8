/** Linear: y = x Wᵀ + b over the last dim, with PyTorch's parameter layout. */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { gemm, reshape } from '../graph/ops/index.ts';
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

  constructor(g: Graph, name: string, readonly config: LinearConfig, rng: Rng) {
    const label = `Linear "${name}"`;
    const inF = positiveInt(label, 'in', config.in);
    const outF = positiveInt(label, 'out', config.out);
    const init = initWeightAndBias(rng, config.init ?? 'pytorch', [outF, inF], config.bias === false ? null : outF);
    const [weight, bias] = g.scope(name, () => [
      g.param('weight', [outF, inF], init.weight),
      init.bias ? g.param('bias', [outF], init.bias) : null,
    ]);
    this.weight = weight as Tensor;
    this.bias = bias ?? null;
    this.name = nameOf(this.weight, 'weight');
  }

  /** (..., in) -> (..., out) */
  forward(x: Tensor): Tensor {
    const { in: inF, out: outF } = this.config;
    expectInput(x.dtype === 'float32' && x.rank >= 1 && x.shape[x.rank - 1] === inF, `Linear "${this.name}" (in ${inF})`, `float32 (..., ${inF})`, x);
    // Fold leading dims into rows so one Gemm (with the bias as C) does the work at any rank.
    const rows = x.rank === 2 ? x : reshape(x, [-1, inF]); // (N, in)
    const y = gemm(rows, this.weight, this.bias, { transB: true }); // (N, out)
    return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), outF]);
  }
}
