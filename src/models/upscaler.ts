/**
 * gesso's 4× upscaler: a small EDSR-style residual net (Lim et al. 2017) with sub-pixel upsampling
 * (Shi et al. 2016, "ESPCN"), trained by gesso's own engine. It predicts only what bilinear
 * upsampling misses: the input upsampled ×4 is added to the net's output (a global skip).
 *
 *   image (B, 3, h, w) in [-1, 1]
 *     head conv 3→C
 *     N blocks: h + s·conv(relu(conv(h)))          no normalization, residual scaling s (EDSR)
 *     conv C→C, plus the head's output               (EDSR's long skip)
 *     2 × [conv C→4C, DepthToSpace 2]                 (B, C, 4h, 4w)
 *     tail conv C→3, plus bilinear ×4 of the image, clipped to [-1, 1]
 *   upscaled (B, 3, 4h, 4w)
 *
 * Every op is size-agnostic (padded 3×3 convs, DepthToSpace, Resize by scales), so the exported model
 * takes any batch, height and width.
 */
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { exportOnnx, type ExportedModel } from '../graph/export.ts';
import { Graph, type Tensor } from '../graph/graph.ts';
import { add, clip, depthToSpace, mul, relu, resize } from '../graph/ops/index.ts';
import { Conv2d } from '../nn/index.ts';

export const UPSCALER_CLASS = 'GessoUpscaler';
export const UPSCALER_SCALE = 4;
export const UPSCALER_INPUT = 'image';
export const UPSCALER_OUTPUT = 'upscaled';

export interface UpscalerConfig {
  /** Feature channels C (default 32). */
  channels: number;
  /** Residual blocks N (default 4). */
  blocks: number;
  /** Residual branch scaling (default 0.1, as EDSR): keeps the no-norm residual stack stable. */
  residualScale: number;
}

/** The `upscaler/config.json` of a model folder. */
export interface UpscalerConfigJson {
  _class_name: typeof UPSCALER_CLASS;
  scale: typeof UPSCALER_SCALE;
  channels: number;
  blocks: number;
  residual_scale: number;
  /** Trainable parameter count (read by the model card). */
  parameters: number;
}

export function upscalerConfig(partial: Partial<UpscalerConfig> = {}): UpscalerConfig {
  const config = { channels: partial.channels ?? 32, blocks: partial.blocks ?? 4, residualScale: partial.residualScale ?? 0.1 };
  if (!Number.isInteger(config.channels) || config.channels < 1) throw new InputError(`upscaler: channels ${config.channels} must be a positive integer`);
  if (!Number.isInteger(config.blocks) || config.blocks < 0) throw new InputError(`upscaler: blocks ${config.blocks} must be a whole number`);
  if (!(config.residualScale > 0)) throw new InputError(`upscaler: residual scale ${config.residualScale} must be above 0`);
  return config;
}

export function upscalerConfigJson(c: UpscalerConfig): UpscalerConfigJson {
  return {
    _class_name: UPSCALER_CLASS,
    scale: UPSCALER_SCALE,
    channels: c.channels,
    blocks: c.blocks,
    residual_scale: c.residualScale,
    parameters: upscalerParamCount(c),
  };
}

/** Weights and biases of every 3×3 conv: head, 2 per block, body_out, two upsampling convs, tail. */
export function upscalerParamCount(c: UpscalerConfig): number {
  const conv = (cin: number, cout: number): number => cin * cout * 9 + cout;
  const ch = c.channels;
  return conv(3, ch) + (2 * c.blocks + 1) * conv(ch, ch) + 2 * conv(ch, 4 * ch) + conv(ch, 3);
}

export interface Upscaler {
  config: UpscalerConfig;
  /** (B, 3, h, w) in [-1, 1] -> (B, 3, 4h, 4w) in [-1, 1]. */
  forward(x: Tensor): Tensor;
}

/** Adds the upscaler's parameters to `g` (names as `head.weight`, `body.0.conv1.weight`, ...). */
export function buildUpscaler(g: Graph, rng: Rng, partial: Partial<UpscalerConfig> = {}): Upscaler {
  const config = upscalerConfig(partial);
  const c = config.channels;
  const conv = (name: string, cin: number, cout: number, init: 'pytorch' | 'zeros' = 'pytorch') =>
    new Conv2d(g, name, { in: cin, out: cout, kernel: 3, padding: 1, init }, rng);
  const head = conv('head', 3, c);
  const body = g.scope('body', () =>
    Array.from({ length: config.blocks }, (_, i) => g.scope(String(i), () => ({ conv1: conv('conv1', c, c), conv2: conv('conv2', c, c) }))),
  );
  const bodyOut = conv('body_out', c, c);
  const up = g.scope('up', () => [conv('0', c, 4 * c), conv('1', c, 4 * c)]);
  // Zero tail: the untrained net is exactly bilinear upsampling, and training only adds detail.
  const tail = conv('tail', c, 3, 'zeros');

  const forward = (x: Tensor): Tensor => {
    const h0 = head.forward(x); // (B, C, h, w)
    let h = h0;
    for (const block of body) h = add(h, mul(block.conv2.forward(relu(block.conv1.forward(h))), config.residualScale));
    h = add(bodyOut.forward(h), h0); // (B, C, h, w)
    for (const u of up) h = depthToSpace(u.forward(h), 2); // (B, 4C, h, w) -> (B, C, 2h, 2w), twice
    const base = resize(x, UPSCALER_SCALE, 'bilinear'); // (B, 3, 4h, 4w); no parameters, so no gradient needed
    return clip(add(tail.forward(h), base), -1, 1); // (B, 3, 4h, 4w)
  };
  return { config, forward };
}

/**
 * The inference model: `image` (B, 3, h, w) -> `upscaled` (B, 3, 4h, 4w), batch/height/width dynamic,
 * with `values` (trained parameters by name; all of them) baked in as initializers.
 */
export function exportUpscaler(config: UpscalerConfig, values: ReadonlyMap<string, Float32Array>, metadata: Record<string, string> = {}): ExportedModel {
  const g = new Graph();
  const x = g.input(UPSCALER_INPUT, [1, 3, 16, 16]);
  const y = buildUpscaler(g, new Rng(0), config).forward(x); // initial values are replaced just below
  g.setValues(values, { complete: true });
  return exportOnnx(g, {
    outputs: { [UPSCALER_OUTPUT]: y },
    params: 'initializers',
    name: UPSCALER_CLASS,
    metadata,
    dynamicAxes: { [UPSCALER_INPUT]: { 0: 'batch', 2: 'height', 3: 'width' }, [UPSCALER_OUTPUT]: { 0: 'batch', 2: 'height_x4', 3: 'width_x4' } },
  });
}
