/**
 * A small StyleGAN-lite / DCGAN for an artist's own images (64 or 128 px):
 *
 * - Generator = mapping network z -> w (2 Linear + LeakyReLU, as StyleGAN's mapping, shorter) and a
 *   synthesis network w -> image: Linear to a 4×4 map, then per doubling a nearest-neighbour resize + 3×3
 *   conv (no transposed convs, so no checkerboard), pixel norm (ProGAN's normaliser: no batch statistics,
 *   so one image never depends on the others in its batch) and LeakyReLU(0.2); a 3×3 conv to RGB and tanh.
 *   The `w` space is where truncation, PCA "genes" and interpolation happen (src/pipelines/gan-explore.ts).
 * - Discriminator = 3×3 conv from RGB, 4×4 stride-2 convs down to 4×4, a minibatch standard deviation
 *   channel (ProGAN), a Linear to one logit; every weight is spectrally normalised (Miyato et al. 2018,
 *   "Spectral Normalization for GANs"). Its width can differ from the generator's (dBaseChannels).
 *
 * Spectral norm without a stop-gradient op: σ(W) ≈ ‖W v‖ with v the unit vector that the *previous*
 * training step's power iteration left in a buffer (`<layer>.sn_v`). v is a graph input, so autodiff
 * treats it as a constant (PyTorch's spectral_norm computes u, v under no_grad: the same gradient), and
 * the step's one power iteration v' = normalize(Wᵀ normalize(W v)) is an extra output carried back
 * into the buffer (buildTrainStep's `bufferUpdates`). R1 was not chosen: it needs the gradient of a
 * gradient, and gesso's rule table does not cover every op its own backward graph uses.
 */
import { InputError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import {
  add,
  concat,
  conv,
  div,
  expand,
  leakyRelu,
  matmul,
  mul,
  reduceMean,
  reduceSum,
  reshape,
  resize,
  sqrt,
  sub,
  tanh,
  transposeLast,
} from '../graph/ops/index.ts';
import { Conv2d } from '../nn/conv.ts';
import { kaimingUniform } from '../nn/init.ts';
import { Linear } from '../nn/linear.ts';

export interface GanConfig {
  /** Image side: 64 or 128. */
  size: number;
  /** Latent z and style w sizes. */
  zDim: number;
  wDim: number;
  /** Channels at full resolution; doubled per halving, capped at maxChannels. */
  baseChannels: number;
  maxChannels: number;
  /** The discriminator's channels, when it is wider than the generator (default: the generator's). */
  dBaseChannels?: number;
  dMaxChannels?: number;
  /** A minibatch-standard-deviation feature before D's head (ProGAN, Karras et al. 2018); ganConfig turns it on. */
  minibatchStd?: boolean;
}

export const GAN_SIZES = [64, 128] as const;

export function ganConfig(size: number, overrides: Partial<Omit<GanConfig, 'size'>> = {}): GanConfig {
  if (!(GAN_SIZES as readonly number[]).includes(size)) throw new InputError(`GAN size ${size} is not supported; expected 64 or 128`);
  return { size, zDim: 128, wDim: 128, baseChannels: 16, maxChannels: 128, minibatchStd: true, ...overrides };
}

/** Channels of the generator's feature map at resolution `res`. */
export function channelsAt(c: GanConfig, res: number): number {
  return Math.min(c.maxChannels, (c.baseChannels * c.size) / res);
}

/** Channels of the discriminator's feature map at resolution `res`. */
export function dChannelsAt(c: GanConfig, res: number): number {
  return Math.min(c.dMaxChannels ?? c.maxChannels, ((c.dBaseChannels ?? c.baseChannels) * c.size) / res);
}

/**
 * ProGAN's minibatch standard deviation: the standard deviation of every feature over the batch, averaged
 * to one number and appended as a constant channel, so D can see when G's samples are too alike (mode
 * collapse) and G is pushed apart. (B, C, H, W) -> (B, C + 1, H, W).
 */
export function minibatchStd(x: Tensor): Tensor {
  const [b, , h, w] = x.shape as [number, number, number, number];
  const centered = sub(x, reduceMean(x, [0], true)); // (B, C, H, W)
  const std = sqrt(add(reduceMean(mul(centered, centered), [0], true), 1e-8)); // (1, C, H, W)
  const mean = reduceMean(std, [0, 1, 2, 3], true); // (1, 1, 1, 1)
  return concat([x, expand(mean, [b, 1, h, w])], 1);
}

/** Resolutions 8, 16, ... size (each one upsampling block of the generator, or one downsampling conv of D reversed). */
function resolutions(c: GanConfig): number[] {
  const out: number[] = [];
  for (let r = 8; r <= c.size; r *= 2) out.push(r);
  return out;
}

const SLOPE = 0.2;
const act = (x: Tensor): Tensor => leakyRelu(x, SLOPE);

/** ProGAN's pixel norm: each pixel's feature vector scaled to unit RMS over channels. (N, C, ...) -> same. */
export function pixelNorm(x: Tensor): Tensor {
  return div(x, sqrt(add(reduceMean(mul(x, x), [1], true), 1e-8)));
}

function setValue(g: Graph, param: Tensor, value: Float32Array): void {
  g.setValues(new Map([[param.name, value]]));
}

/** Init for LeakyReLU(0.2) layers: He (kaiming) uniform with that slope. */
function heInit(rng: Rng, shape: number[]): Float32Array {
  return kaimingUniform(rng, shape, SLOPE);
}

export class Generator {
  private readonly mapping: Linear[];
  private readonly stem: Linear;
  private readonly blocks: Conv2d[];
  private readonly toRgb: Conv2d;

  constructor(
    g: Graph,
    rng: Rng,
    readonly config: GanConfig,
  ) {
    const c = config;
    const c4 = channelsAt(c, 4);
    [this.mapping, this.stem, this.blocks, this.toRgb] = g.scope('G', () => {
      const mapping = [0, 1].map((i) => new Linear(g, `mapping.${i}`, { in: i === 0 ? c.zDim : c.wDim, out: c.wDim, init: 'xavier' }, rng));
      const stem = new Linear(g, 'stem', { in: c.wDim, out: c4 * 16, init: 'xavier' }, rng);
      const blocks = resolutions(c).map((r) => new Conv2d(g, `up${r}`, { in: channelsAt(c, r / 2), out: channelsAt(c, r), kernel: 3, padding: 1 }, rng));
      const toRgb = new Conv2d(g, 'to_rgb', { in: channelsAt(c, c.size), out: 3, kernel: 3, padding: 1, init: 'xavier' }, rng);
      return [mapping, stem, blocks, toRgb] as const;
    });
    for (const layer of this.blocks) setValue(g, layer.weight, heInit(rng, [...layer.weight.shape]));
  }

  /** (B, zDim) -> (B, wDim). z is pixel-normed first (StyleGAN), so its scale does not matter. */
  map(z: Tensor): Tensor {
    let w = pixelNorm(z);
    for (const layer of this.mapping) w = act(layer.forward(w));
    return w;
  }

  /** (B, wDim) -> (B, 3, size, size) in [-1, 1]. */
  synthesize(w: Tensor): Tensor {
    const c4 = channelsAt(this.config, 4);
    let x = pixelNorm(act(reshape(this.stem.forward(w), [-1, c4, 4, 4]))); // (B, C4, 4, 4)
    for (const block of this.blocks) x = pixelNorm(act(block.forward(resize(x, 2, 'nearest')))); // (B, Cr, r, r)
    return tanh(this.toRgb.forward(x)); // (B, 3, S, S)
  }

  forward(z: Tensor): Tensor {
    return this.synthesize(this.map(z));
  }
}

/** A weight with spectral normalisation (see the file comment): its normalised value and the power-iteration update. */
interface SpectralWeight {
  /** W / σ, the weight's shape. */
  normalized: Tensor;
  /** Buffer name and its next value. */
  buffer: string;
  next: Tensor;
}

function spectralNorm(g: Graph, weight: Tensor, rng: Rng): SpectralWeight {
  const out = weight.shape[0] as number;
  const fanIn = weight.size / out;
  const bufferName = weight.name.replace(/\.weight$/, '.sn_v');
  const start = powerIteration(g.params.get(weight.name)?.value as Float32Array, out, fanIn, rng.normal(fanIn), 30);
  const v = g.param(bufferName, [fanIn, 1], start, { trainable: false }); // (K, 1)
  const w2 = reshape(weight, [out, fanIn]); // (O, K)
  const wv = matmul(w2, v); // (O, 1)
  const sigma = sqrt(add(reduceSum(mul(wv, wv)), 1e-12));
  const u = div(wv, sigma); // (O, 1), unit
  const wtu = matmul(transposeLast(w2), u); // (K, 1)
  const next = div(wtu, sqrt(add(reduceSum(mul(wtu, wtu)), 1e-12)));
  return { normalized: div(weight, sigma), buffer: bufferName, next };
}

/**
 * The top right singular vector of the (O, K) matrix `w`, by `iterations` of v <- normalize(Wᵀ W v)
 * from `v`: the initial spectral-norm buffer, so the first training step already divides by ≈ σ.
 */
export function powerIteration(w: Float32Array, rows: number, cols: number, v: Float32Array, iterations: number): Float32Array {
  const u = new Float64Array(rows);
  let x = Float64Array.from(v);
  for (let it = 0; it < iterations; it++) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += (w[r * cols + k] as number) * (x[k] as number);
      u[r] = s;
    }
    const next = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) next[k] = (next[k] as number) + (w[r * cols + k] as number) * (u[r] as number);
    const norm = Math.hypot(...next) || 1;
    x = next.map((e) => e / norm);
  }
  return Float32Array.from(x);
}

export class Discriminator {
  private readonly convs: { weight: Tensor; bias: Tensor; stride: number; pad: number }[] = [];
  private readonly head: { weight: Tensor; bias: Tensor };
  /** Spectral-norm buffer name -> next value, for buildTrainStep's bufferUpdates. */
  readonly bufferUpdates: Record<string, Tensor> = {};
  private readonly normalized = new Map<Tensor, Tensor>();

  constructor(
    g: Graph,
    rng: Rng,
    readonly config: GanConfig,
  ) {
    const c = config;
    const c4 = dChannelsAt(c, 4) + (c.minibatchStd ? 1 : 0);
    this.head = g.scope('D', () => {
      const fromRgb = new Conv2d(g, 'from_rgb', { in: 3, out: dChannelsAt(c, c.size), kernel: 3, padding: 1 }, rng);
      this.convs.push({ weight: fromRgb.weight, bias: fromRgb.bias as Tensor, stride: 1, pad: 1 });
      for (const r of resolutions(c).reverse()) {
        const down = new Conv2d(g, `down${r}`, { in: dChannelsAt(c, r), out: dChannelsAt(c, r / 2), kernel: 4, stride: 2, padding: 1 }, rng);
        this.convs.push({ weight: down.weight, bias: down.bias as Tensor, stride: 2, pad: 1 });
      }
      const head = new Linear(g, 'head', { in: c4 * 16, out: 1 }, rng);
      return { weight: head.weight, bias: head.bias as Tensor };
    });
    for (const t of [...this.convs.map((k) => k.weight), this.head.weight]) {
      setValue(g, t, heInit(rng, [...t.shape]));
      const sn = spectralNorm(g, t, rng);
      this.normalized.set(t, sn.normalized);
      this.bufferUpdates[sn.buffer] = sn.next;
    }
  }

  /** (B, 3, S, S) -> (B, 1) logits. */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const k of this.convs)
      h = act(conv(h, this.normalized.get(k.weight) as Tensor, k.bias, { strides: [k.stride, k.stride], pads: [k.pad, k.pad, k.pad, k.pad] }));
    if (this.config.minibatchStd) h = minibatchStd(h); // (B, C4 + 1, 4, 4)
    const flat = reshape(h, [h.shape[0] as number, -1]); // (B, C4·16) (+16 with the minibatch std)
    return add(matmul(flat, transposeLast(this.normalized.get(this.head.weight) as Tensor)), this.head.bias); // (B, 1)
  }
}
