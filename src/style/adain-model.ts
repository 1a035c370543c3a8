/**
 * Loads a trained AdaIN model folder (`config.json` + `decoder.safetensors`, written by
 * ./train-adain.ts) and stylises: style statistics are measured per style image at the AdaIN layer,
 * mixed by weight, and fed with the content to one graph (encoder -> AdaIN -> alpha blend -> decoder).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { Graph, type Tensor } from '../graph/graph.ts';
import * as op from '../graph/ops/index.ts';
import { exportOnnx } from '../graph/export.ts';
import { Session } from '../runtime/session.ts';
import { readSafetensors, toFloat32 } from '../weights/safetensors.ts';
import { adaptiveInstanceNorm, buildDecoder, matchColorStats, type AdainConfig } from './adain.ts';
import { defaultEncoder, type FeatureEncoder } from './encoder.ts';
import { extractFeatures } from './features.ts';
import { fitSize, resizePlanes, type RgbPlanes } from './planes.ts';

export const DEFAULT_ADAIN_DIR = 'models/gesso-adain-v1';

export interface AdainModel {
  dir: string;
  /** SHA-256 of config.json followed by decoder.safetensors: recipes name the exact decoder. */
  sha256: string;
  config: AdainConfig & { encoder: string };
  weights: Map<string, Float32Array>;
}

export function loadAdainModel(dir: string): AdainModel {
  const cfgPath = join(dir, 'config.json');
  const weightsPath = join(dir, 'decoder.safetensors');
  if (!existsSync(cfgPath) || !existsSync(weightsPath)) throw new InputError(`${dir}: not an AdaIN model folder (needs config.json and decoder.safetensors)`);
  let config: AdainModel['config'];
  try {
    config = JSON.parse(readFileSync(cfgPath, 'utf8')) as AdainModel['config'];
  } catch (e) {
    throw new InputError(`${cfgPath}: not valid JSON (${(e as Error).message})`);
  }
  if ((config as { format?: string }).format !== 'gesso-adain-v1') throw new InputError(`${cfgPath}: format is not gesso-adain-v1`);
  const file = readSafetensors(weightsPath, weightsPath);
  const weights = new Map([...file.tensors].map(([k, t]) => [k, Float32Array.from(toFloat32(t))]));
  const sha256 = createHash('sha256').update(readFileSync(cfgPath)).update(readFileSync(weightsPath)).digest('hex');
  return { dir, sha256, config, weights };
}

/** Mean and std per channel of a (1, C, h, w) feature map, as (C) arrays. */
function stats(f: Float32Array, c: number): { mean: Float32Array; std: Float32Array } {
  const n = f.length / c;
  const mean = new Float32Array(c);
  const std = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += f[k * n + i] as number;
    const m = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += ((f[k * n + i] as number) - m) ** 2;
    mean[k] = m;
    std[k] = Math.sqrt(v / n + 1e-5);
  }
  return { mean, std };
}

/** Stylises `content` (sides multiples of the model's factor) with weighted `styles` at strength `alpha` in [0, 1]. */
export async function adainTransfer(
  model: AdainModel,
  content: RgbPlanes,
  styles: { image: RgbPlanes; weight: number }[],
  alpha: number,
  encoder: FeatureEncoder = defaultEncoder(),
): Promise<RgbPlanes> {
  const { config } = model;
  if (encoder.id !== config.encoder) throw new InputError(`${model.dir} was trained on encoder ${config.encoder}, not ${encoder.id}`);
  const c = config.channels;
  const mean = new Float32Array(c);
  const std = new Float32Array(c);
  // Pixel statistics for outputColor 'style': the styles' mix, then blended with the content's own by alpha.
  const pixelMean = new Float32Array(3);
  const pixelStd = new Float32Array(3);
  const addWeighted = (to: Float32Array, from: Float32Array, w: number): void => {
    for (let k = 0; k < from.length; k++) to[k]! += (from[k] as number) * w;
  };
  const total = styles.reduce((s, x) => s + x.weight, 0);
  for (const s of styles) {
    const size = fitSize(s.image.width, s.image.height, Math.max(content.width, content.height));
    const resized = await resizePlanes(s.image, size.width, size.height);
    const f = (await extractFeatures(encoder, resized, { features: [config.layer] })).features.get(config.layer)!;
    const st = stats(f.data, c);
    addWeighted(mean, st.mean, s.weight / total);
    addWeighted(std, st.std, s.weight / total);
    const px = stats(resized.data, 3);
    addWeighted(pixelMean, px.mean, (alpha * s.weight) / total);
    addWeighted(pixelStd, px.std, (alpha * s.weight) / total);
  }
  const own = stats(content.data, 3);
  addWeighted(pixelMean, own.mean, 1 - alpha);
  addWeighted(pixelStd, own.std, 1 - alpha);
  const { width, height } = content;
  const g = new Graph();
  const x = g.input('content', [1, 3, height, width]);
  const fc = encoder.features(g, x, [config.layer])[config.layer] as Tensor; // (1, C, H/f, W/f)
  const t = adaptiveInstanceNorm(fc, g.constant(mean, [1, c, 1, 1], 'float32', 'style_mean'), g.constant(std, [1, c, 1, 1], 'float32', 'style_std'));
  const blended = alpha >= 1 ? t : op.add(op.mul(t, alpha), op.mul(fc, 1 - alpha));
  const decoded = buildDecoder(g, blended, config, new Rng(0)); // (1, 3, H, W)
  const y =
    config.outputColor === 'style'
      ? matchColorStats(decoded, g.constant(pixelMean, [1, 3, 1, 1], 'float32', 'pixel_mean'), g.constant(pixelStd, [1, 3, 1, 1], 'float32', 'pixel_std'))
      : decoded;
  g.setValues(model.weights, { complete: true });
  const session = await Session.create(exportOnnx(g, { outputs: { [y.name]: y }, params: 'initializers' }).bytes, { name: `${model.dir} adain` });
  try {
    const out = await session.run({ content: { dtype: 'float32', dims: [1, 3, height, width], data: content.data } });
    return { data: Float32Array.from(out[y.name]?.data as Float32Array), width, height };
  } finally {
    await session.release();
  }
}
