/**
 * The TF.js importer against the tfjs runtime itself: nsfwjs's MobileNetV2 (quantized uint8 weights,
 * depthwise convs, ReLU6, SAME padding) and InceptionV3 (SAME average pooling, concatenation) give the
 * same class probabilities and intermediate features in gesso's graph (run by ONNX Runtime) as in
 * tfjs-layers on the cpu backend, on the same image.
 */
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import { Session } from '../../src/runtime/session.ts';
import { nsfwjsModelDir, readTfjsModel, type TfjsLayersModel } from '../../src/tfjs/model-files.ts';
import { buildTfjsLayers } from '../../src/tfjs/layers-graph.ts';

/**
 * Loads the same model into tfjs-layers from the decoded topology and weights, cut after the last
 * requested layer and with the test's input size (tfjs checks the declared input shape).
 */
async function tfjsReference(model: TfjsLayersModel, outputs: string[], size: number): Promise<tf.LayersModel> {
  await tf.setBackend('cpu');
  const topology = structuredClone(model.topology) as {
    model_config: { config: { layers: { name: string; config: Record<string, unknown> }[]; output_layers: unknown[] } };
  };
  const config = topology.model_config.config;
  const last = Math.max(...outputs.map((n) => config.layers.findIndex((l) => l.name === n)));
  config.layers = config.layers.slice(0, last + 1);
  (config.layers[0] as { config: Record<string, unknown> }).config['batch_input_shape'] = [null, size, size, 3];
  config.output_layers = outputs.map((n) => [n, 0, 0]);
  const kept = new Set(config.layers.map((l) => l.name));
  const entries = [...model.weights.entries()].filter(([name]) => kept.has(name.slice(0, name.lastIndexOf('/'))));
  const specs = entries.map(([name, w]) => ({ name, shape: w.shape, dtype: 'float32' as const }));
  const bytes = new Float32Array(entries.reduce((n, [, w]) => n + w.data.length, 0));
  let off = 0;
  for (const [, w] of entries) {
    bytes.set(w.data, off);
    off += w.data.length;
  }
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology as tf.io.ModelJSON['modelTopology'], weightSpecs: specs, weightData: bytes.buffer }));
}

/** `name`: an nsfwjs model, or a model folder; `range`: the largest input pixel value the model expects. */
async function compare(name: 'mobilenet_v2' | 'inception_v3' | string, size: number, layers: string[], range = 1): Promise<void> {
  const model = readTfjsModel(name === 'mobilenet_v2' || name === 'inception_v3' ? nsfwjsModelDir(name) : name);
  const rng = new Rng(3);
  const nhwc = Float32Array.from(rng.normal(size * size * 3), (v) => range * Math.min(1, Math.max(0, 0.5 + 0.25 * v)));
  const nchw = new Float32Array(nhwc.length);
  for (let p = 0; p < size * size; p++) for (let c = 0; c < 3; c++) nchw[c * size * size + p] = nhwc[p * 3 + c] as number;

  const g = new Graph();
  const image = g.input('image', [1, 3, size, size]);
  const outs = buildTfjsLayers(g, model, image, { outputs: layers });
  // Outputs keep their tensor names: ORT 1.30's Identity elimination breaks a graph whose output is an
  // Identity of a tensor that other nodes also read (it renames the producer's output under them).
  const session = await Session.create(
    exportOnnx(g, { outputs: Object.fromEntries(Object.values(outs).map((t) => [t.name, t])), params: 'initializers' }).bytes,
  );
  const ours = await session.run({ image: { dtype: 'float32', dims: [1, 3, size, size], data: nchw } });
  await session.release();

  const ref = await tfjsReference(model, layers, size);
  const theirs = ref.predict(tf.tensor4d(nhwc, [1, size, size, 3])) as tf.Tensor[] | tf.Tensor;
  const list = Array.isArray(theirs) ? theirs : [theirs];
  for (const [i, layer] of layers.entries()) {
    const t = list[i] as tf.Tensor;
    const want = t.dataSync() as Float32Array;
    let got = ours[outs[layer]!.name]?.data as Float32Array;
    if (t.rank === 4) got = toNhwc(got, t.shape as number[]); // gesso is NCHW
    assert.equal(got.length, want.length, `${name} ${layer}: sizes differ`);
    let worst = 0;
    let scale = 0;
    for (let k = 0; k < want.length; k++) {
      worst = Math.max(worst, Math.abs((got[k] as number) - (want[k] as number)));
      scale = Math.max(scale, Math.abs(want[k] as number));
    }
    assert.ok(worst <= 1e-4 + 1e-4 * scale, `${name} ${layer}: max |gesso - tfjs| = ${worst} (values up to ${scale})`);
  }
}

function toNhwc(x: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n!; b++)
    for (let ch = 0; ch < c!; ch++) for (let p = 0; p < h! * w!; p++) out[(b * h! * w! + p) * c! + ch] = x[(b * c! + ch) * h! * w! + p] as number;
  return out;
}

test('MobileNetV2 from nsfwjs: features and probabilities match tfjs', async () => {
  await compare('mobilenet_v2', 224, ['block_3_expand_relu', 'block_13_expand_relu', 'dense_3']);
});

test('InceptionV3 from nsfwjs: mixed blocks match tfjs', async () => {
  await compare('inception_v3', 160, ['mixed2']); // below 299 px the Flatten + Dense head cannot be built; the convolutional trunk can
});

test('ESRGAN-slim x2 from @upscalerjs (second real model: dense residual blocks, nearest UpSampling2D) matches tfjs', async () => {
  const dir = fileURLToPath(new URL('./esrgan-slim-x2', import.meta.url)); // the package's models/x2, README there
  await compare(dir, 48, ['UPsample', 'SR'], 255); // pixels 0-255 in; the upsampled features and the 96x96 image out
});
