/** Linear: y = x Wᵀ + b over the last dim, with PyTorch's parameter layout. */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { add, gemm, matmul, reshape, transpose } from '../graph/ops/index.ts';
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
    const { in: inF, out: outF } = this.config;
    expectInput(x.dtype === 'float32' && x.rank >= 1 && x.shape[x.rank - 1] === inF, `Linear "${this.name}" (in ${inF})`, `float32 (..., ${inF})`, x);
    if (x.rank === 2) return gemm(x, this.weight, this.bias, { transB: true }); // (N, out)
    if (x.rank === 1) return reshape(gemm(reshape(x, [1, inF]), this.weight, this.bias, { transB: true }), [outF]); // (out)
    // Other ranks: MatMul with Wᵀ broadcasts over the leading dims, so no reshape bakes their sizes in and
    // an export with dynamic batch/sequence dims stays right (ORT folds the Transpose of a constant weight).
    const y = matmul(x, transpose(this.weight, [1, 0])); // (..., out)
    return this.bias ? add(y, this.bias) : y;
  }
}
