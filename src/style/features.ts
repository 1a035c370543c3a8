/** Runs an encoder once on host images: the targets (content features, style Gram matrices) of style transfer. */
import { Graph, type Tensor } from '../graph/graph.ts';
import { exportOnnx } from '../graph/export.ts';
import { Session } from '../runtime/session.ts';
import type { FeatureEncoder } from './encoder.ts';
import { PIXELS } from './pixels-layer.ts';
import { gram } from './gram.ts';
import type { RgbPlanes } from './planes.ts';

export interface HostFeature {
  shape: number[];
  data: Float32Array;
}

export interface FeatureRequest {
  /** Layers whose activations are wanted, (1, C, h, w). */
  features?: readonly string[];
  /** Layers whose Gram matrices are wanted, (C, C). */
  grams?: readonly string[];
}

/** Runs the encoder on one image; returns `features` and `grams` keyed by layer name. */
export async function extractFeatures(
  encoder: FeatureEncoder,
  image: RgbPlanes,
  request: FeatureRequest,
): Promise<{ features: Map<string, HostFeature>; grams: Map<string, HostFeature> }> {
  const g = new Graph();
  const x = g.input('image', [1, 3, image.height, image.width]);
  const layers = [...new Set([...(request.features ?? []), ...(request.grams ?? [])])];
  const outs: Record<string, Tensor> = {
    ...encoder.features(
      g,
      x,
      layers.filter((l) => l !== PIXELS),
    ),
    [PIXELS]: x,
  };
  const wanted: Record<string, Tensor> = {};
  const keyOf = new Map<string, string>();
  const add = (key: string, t: Tensor): void => {
    // Outputs keep their tensor names: ORT 1.30's Identity elimination breaks renamed intermediate outputs.
    wanted[t.name] = t;
    keyOf.set(key, t.name);
  };
  for (const l of request.features ?? []) add(`f:${l}`, outs[l] as Tensor);
  for (const l of request.grams ?? []) add(`g:${l}`, gram(outs[l] as Tensor));
  const session = await Session.create(exportOnnx(g, { outputs: wanted, params: 'initializers' }).bytes, { name: `${encoder.id} features` });
  try {
    const out = await session.run({ image: { dtype: 'float32', dims: [1, 3, image.height, image.width], data: image.data } });
    const pick = (key: string): HostFeature => {
      const t = out[keyOf.get(key) as string];
      return { shape: [...(t?.dims ?? [])], data: t?.data as Float32Array };
    };
    return {
      features: new Map((request.features ?? []).map((l) => [l, pick(`f:${l}`)])),
      grams: new Map((request.grams ?? []).map((l) => [l, pick(`g:${l}`)])),
    };
  } finally {
    await session.release();
  }
}
