/**
 * The residual block of DDPM-style UNets (Ho et al., 2020; diffusers' ResnetBlock2D, same parameter names):
 *   h = conv1(silu(norm1(x)))  [+ time_emb_proj(silu(temb)) per channel]
 *   h = conv2(dropout(silu(norm2(h))))
 *   out = shortcut(x) + h,  shortcut = 1x1 conv_shortcut when channels change, else identity.
 */
import { InputError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { add, reshape, silu } from '../graph/ops/index.ts';
import { formatShape } from '../graph/types.ts';
import { Conv2d } from './conv.ts';
import type { Dropout } from './dropout.ts';
import type { WeightInit } from './init.ts';
import { expectInput, nameOf, positiveInt } from './layer.ts';
import { Linear } from './linear.ts';
import { GroupNorm } from './norm.ts';

export interface ResBlockConfig {
  in: number;
  /** Default `in`. */
  out?: number;
  /** GroupNorm groups for both norms; default 32. */
  groups?: number;
  /** GroupNorm eps; default 1e-6 as diffusers' ResnetBlock2D. */
  eps?: number;
  /** Width of the timestep embedding; omit for a block without time conditioning. */
  tembDim?: number;
  /** Applied before conv2 (only a training-mode Dropout changes anything). */
  dropout?: Dropout;
  /** Zero-initialise conv2 so the block starts as its shortcut (as the original DDPM code). Default false. */
  zeroInitLast?: boolean;
  init?: WeightInit;
}

export class ResBlock {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly timeEmbProj: Linear | null;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly convShortcut: Conv2d | null;
  readonly name: string;
  readonly in: number;
  readonly out: number;

  constructor(
    g: Graph,
    name: string,
    readonly config: ResBlockConfig,
    rng: Rng,
  ) {
    const label = `ResBlock "${name}"`;
    this.in = positiveInt(label, 'in', config.in);
    this.out = positiveInt(label, 'out', config.out ?? config.in);
    const groups = config.groups ?? 32;
    if (this.in % groups !== 0 || this.out % groups !== 0)
      throw new InputError(`${label}: in ${this.in} and out ${this.out} channels must divide by groups ${groups}`);
    const eps = config.eps ?? 1e-6;
    const init = config.init ?? 'pytorch';
    const parts = g.scope(name, () => ({
      norm1: new GroupNorm(g, 'norm1', { groups, channels: this.in, eps }),
      conv1: new Conv2d(g, 'conv1', { in: this.in, out: this.out, kernel: 3, padding: 1, init }, rng),
      temb: config.tembDim === undefined ? null : new Linear(g, 'time_emb_proj', { in: config.tembDim, out: this.out, init }, rng),
      norm2: new GroupNorm(g, 'norm2', { groups, channels: this.out, eps }),
      conv2: new Conv2d(g, 'conv2', { in: this.out, out: this.out, kernel: 3, padding: 1, init: config.zeroInitLast ? 'zeros' : init }, rng),
      shortcut: this.in === this.out ? null : new Conv2d(g, 'conv_shortcut', { in: this.in, out: this.out, kernel: 1, init }, rng),
    }));
    ({ norm1: this.norm1, conv1: this.conv1, temb: this.timeEmbProj, norm2: this.norm2, conv2: this.conv2, shortcut: this.convShortcut } = parts);
    this.name = nameOf(this.conv1.weight, 'conv1.weight');
  }

  /** x (N, in, H, W), temb (N, tembDim) -> (N, out, H, W) */
  forward(x: Tensor, temb?: Tensor): Tensor {
    const label = `ResBlock "${this.name}" (in ${this.in}, out ${this.out})`;
    expectInput(x.dtype === 'float32' && x.rank === 4 && x.shape[1] === this.in, label, `float32 (N, ${this.in}, H, W)`, x);
    let h = this.conv1.forward(silu(this.norm1.forward(x))); // (N, out, H, W)
    if (this.timeEmbProj) {
      const tembDim = this.config.tembDim as number;
      if (!temb) throw new InputError(`${label}: built with tembDim ${tembDim}, so forward() needs a timestep embedding (N, ${tembDim})`);
      const n = x.shape[0];
      expectInput(
        temb.dtype === 'float32' && temb.rank === 2 && temb.shape[0] === n && temb.shape[1] === tembDim,
        label,
        `float32 (${n}, ${tembDim}) for x ${formatShape(x.shape)}`,
        temb,
        'timestep embedding',
      );
      const perChannel = reshape(this.timeEmbProj.forward(silu(temb)), [n, this.out, 1, 1]); // (N, out, 1, 1)
      h = add(h, perChannel);
    } else if (temb) {
      throw new InputError(`${label}: got a timestep embedding but was built without tembDim`);
    }
    h = silu(this.norm2.forward(h));
    if (this.config.dropout) h = this.config.dropout.forward(h);
    h = this.conv2.forward(h); // (N, out, H, W)
    const skip = this.convShortcut ? this.convShortcut.forward(x) : x; // (N, out, H, W)
    return add(skip, h);
  }
}
