/**
 * Dropout (Srivastava et al., 2014), inverted: in training each element is zeroed with probability p
 * and the rest are scaled by 1/(1-p); otherwise it adds nothing to the graph.
 *
 * The mask comes from ONNX RandomUniformLike, which ONNX Runtime seeds once per session: every run draws
 * a fresh mask, and a new session with the same seeds repeats the same sequence of masks. Each forward()
 * gets its own op seed, drawn from an Rng made from `seed`, so two dropouts never share a mask stream
 * (ORT gives identical output to ops with equal seeds) and small user seeds still give well-mixed op seeds.
 */
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import type { Tensor } from '../graph/graph.ts';
import { cast, div, less, mul, not, randomUniformLike } from '../graph/ops/index.ts';
import { expectInput } from './layer.ts';

export interface DropoutOptions {
  /** Build the random mask; default false (inference: identity). */
  training?: boolean;
  /** Seeds the masks; required when training so runs are reproducible. */
  seed?: number;
}

export class Dropout {
  readonly training: boolean;
  private readonly seeds: Rng | null;

  constructor(
    readonly p: number,
    options: DropoutOptions = {},
  ) {
    if (!(p >= 0 && p < 1)) throw new InputError(`Dropout: p ${p} must be in [0, 1)`);
    this.training = options.training ?? false;
    const seed = options.seed;
    if (this.training && (seed === undefined || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)) {
      throw new InputError(`Dropout: training needs a seed, an integer in 0..4294967295 (got ${String(seed)})`);
    }
    this.seeds = this.training ? new Rng(seed as number) : null;
  }

  /** (...) -> (...) */
  forward(x: Tensor): Tensor {
    expectInput(x.dtype === 'float32', `Dropout (p ${this.p})`, 'a float32 tensor', x);
    if (!this.seeds || this.p === 0) return x;
    const u = randomUniformLike(x, { seed: this.seeds.int(2 ** 24) }); // (...) in [0, 1)
    const keep = cast(not(less(u, this.p)), 'float32'); // 1 with probability 1 - p
    return mul(x, div(keep, 1 - this.p));
  }
}
