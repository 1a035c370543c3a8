/** Embedding: a learned (num, dim) table looked up by integer ids. */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { gather } from '../graph/ops/index.ts';
import { normal, zeros } from './init.ts';
import { expectInput, nameOf, positiveInt } from './layer.ts';

export interface EmbeddingConfig {
  /** Number of rows (vocabulary size). */
  num: number;
  dim: number;
  /** Default 'normal': normal(0, 1), as PyTorch's nn.Embedding. */
  init?: 'normal' | 'zeros';
}

export class Embedding {
  /** (num, dim) */
  readonly weight: Tensor;
  readonly name: string;

  constructor(
    g: Graph,
    name: string,
    readonly config: EmbeddingConfig,
    rng: Rng,
  ) {
    const label = `Embedding "${name}"`;
    const num = positiveInt(label, 'num', config.num);
    const dim = positiveInt(label, 'dim', config.dim);
    const value = config.init === 'zeros' ? zeros(num * dim) : normal(rng, num * dim);
    this.weight = g.scope(name, () => g.param('weight', [num, dim], value));
    this.name = nameOf(this.weight, 'weight');
  }

  /** ids (...) int64 or int32, each in [0, num) -> (..., dim). Out-of-range ids fail when the graph runs. */
  forward(ids: Tensor): Tensor {
    const { num, dim } = this.config;
    expectInput(ids.dtype === 'int64' || ids.dtype === 'int32', `Embedding "${this.name}" (${num} x ${dim})`, 'int64 or int32 ids (...)', ids);
    return gather(this.weight, ids, 0);
  }
}
