/** Conv2d and ConvTranspose2d over NCHW tensors, with PyTorch's parameters, arguments and output sizes. */
import { InputError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { conv, convTranspose, pad } from '../graph/ops/index.ts';
import { initWeightAndBias, type WeightInit } from './init.ts';
import { expectInput, nameOf, pair, positiveInt } from './layer.ts';

type Pair = number | readonly [number, number];

export interface Conv2dConfig {
  in: number;
  out: number;
  kernel: Pair;
  /** Default 1. */
  stride?: Pair;
  /** Padding on each side, symmetric as PyTorch's `padding` (default 0). */
  padding?: Pair;
  /**
   * How Conv2d pads, as PyTorch's `padding_mode`: 'zeros' (default) or 'reflect' (mirrors the border
   * without repeating it, so image networks see no dark frame and paint no band along the edges).
   */
  paddingMode?: 'zeros' | 'reflect';
  /** Default 1. */
  dilation?: Pair;
  /** Default 1; `in` and `out` must both divide by it. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** Default 'pytorch'. */
  init?: WeightInit;
}

export interface ConvTranspose2dConfig extends Conv2dConfig {
  /** Extra rows/columns on the bottom/right of the output (PyTorch's output_padding, default 0). */
  outputPadding?: Pair;
}

interface Geometry {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

function geometry(label: string, c: Conv2dConfig): Geometry {
  positiveInt(label, 'in', c.in);
  positiveInt(label, 'out', c.out);
  const groups = positiveInt(label, 'groups', c.groups ?? 1);
  if (c.in % groups !== 0 || c.out % groups !== 0) throw new InputError(`${label}: in ${c.in} and out ${c.out} must both divide by groups ${groups}`);
  return {
    kernel: pair(label, 'kernel', c.kernel, 1),
    stride: pair(label, 'stride', c.stride ?? 1, 1),
    padding: pair(label, 'padding', c.padding ?? 0, 0),
    dilation: pair(label, 'dilation', c.dilation ?? 1, 1),
    groups,
  };
}

function onnxOptions(geo: Geometry) {
  const [ph, pw] = geo.padding;
  return { strides: geo.stride, pads: [ph, pw, ph, pw], dilations: geo.dilation, group: geo.groups };
}

/** Shared parameter creation: weight of `shape` and an optional (out) bias, in PyTorch's init order. */
function convParams(g: Graph, name: string, c: Conv2dConfig, shape: [number, number, number, number], rng: Rng): [Tensor, Tensor | null] {
  const init = initWeightAndBias(rng, c.init ?? 'pytorch', shape, c.bias === false ? null : c.out);
  return g.scope(name, () => [g.param('weight', shape, init.weight), init.bias ? g.param('bias', [c.out], init.bias) : null]);
}

export class Conv2d {
  /** (out, in/groups, kH, kW) */
  readonly weight: Tensor;
  /** (out) or null */
  readonly bias: Tensor | null;
  readonly name: string;
  private readonly geo: Geometry;

  constructor(
    g: Graph,
    name: string,
    readonly config: Conv2dConfig,
    rng: Rng,
  ) {
    this.geo = geometry(`Conv2d "${name}"`, config);
    const [kh, kw] = this.geo.kernel;
    [this.weight, this.bias] = convParams(g, name, config, [config.out, config.in / this.geo.groups, kh, kw], rng);
    this.name = nameOf(this.weight, 'weight');
  }

  /** (N, in, H, W) -> (N, out, H', W'), H' = floor((H + 2p - d(k-1) - 1) / s) + 1 */
  forward(x: Tensor): Tensor {
    const c = this.config;
    expectInput(x.dtype === 'float32' && x.rank === 4 && x.shape[1] === c.in, `Conv2d "${this.name}" (in ${c.in})`, `float32 (N, ${c.in}, H, W)`, x);
    const [ph, pw] = this.geo.padding;
    const [dh, dw] = this.geo.dilation;
    const [kh, kw] = this.geo.kernel;
    const [spanH, spanW] = [dh * (kh - 1) + 1, dw * (kw - 1) + 1];
    const fits = x.shape[2] + 2 * ph >= spanH && x.shape[3] + 2 * pw >= spanW;
    const label = `Conv2d "${this.name}" (kernel ${kh}x${kw}, padding ${ph},${pw}, dilation ${dh},${dw})`;
    expectInput(fits, label, `(N, ${c.in}, H, W) whose padded H, W are at least the dilated kernel ${spanH}x${spanW}`, x);
    if (c.paddingMode !== 'reflect' || (ph === 0 && pw === 0)) return conv(x, this.weight, this.bias, onnxOptions(this.geo));
    expectInput(x.shape[2] > ph && x.shape[3] > pw, `${label}, reflect`, `(N, ${c.in}, H, W) with H > ${ph} and W > ${pw}`, x);
    const padded = pad(x, [0, 0, ph, pw, 0, 0, ph, pw], 0, 'reflect'); // (N, in, H + 2ph, W + 2pw)
    return conv(padded, this.weight, this.bias, onnxOptions({ ...this.geo, padding: [0, 0] }));
  }
}

export class ConvTranspose2d {
  /** (in, out/groups, kH, kW), as PyTorch stores it. */
  readonly weight: Tensor;
  /** (out) or null */
  readonly bias: Tensor | null;
  readonly name: string;
  private readonly geo: Geometry;
  private readonly outputPadding: [number, number];

  constructor(
    g: Graph,
    name: string,
    readonly config: ConvTranspose2dConfig,
    rng: Rng,
  ) {
    const label = `ConvTranspose2d "${name}"`;
    if (config.paddingMode === 'reflect') throw new InputError(`${label}: paddingMode 'reflect' is not supported for transposed convolutions (only 'zeros')`);
    this.geo = geometry(label, config);
    this.outputPadding = pair(label, 'outputPadding', config.outputPadding ?? 0, 0);
    // PyTorch's rule: output padding must be smaller than either stride or dilation.
    this.outputPadding.forEach((op, i) => {
      if (op >= this.geo.stride[i] && op >= this.geo.dilation[i]) {
        throw new InputError(`${label}: outputPadding ${op} must be smaller than stride ${this.geo.stride[i]} or dilation ${this.geo.dilation[i]}`);
      }
    });
    const [kh, kw] = this.geo.kernel;
    [this.weight, this.bias] = convParams(g, name, config, [config.in, config.out / this.geo.groups, kh, kw], rng);
    this.name = nameOf(this.weight, 'weight');
  }

  /** (N, in, H, W) -> (N, out, H', W'), H' = (H - 1)s - 2p + d(k-1) + outputPadding + 1 */
  forward(x: Tensor): Tensor {
    const c = this.config;
    expectInput(x.dtype === 'float32' && x.rank === 4 && x.shape[1] === c.in, `ConvTranspose2d "${this.name}" (in ${c.in})`, `float32 (N, ${c.in}, H, W)`, x);
    return convTranspose(x, this.weight, this.bias, { ...onnxOptions(this.geo), outputPadding: this.outputPadding });
  }
}
