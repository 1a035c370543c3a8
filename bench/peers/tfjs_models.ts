/**
 * The two reference workloads of bench/REFERENCE.md written with @tensorflow/tfjs-core ops, for the
 * tfjs peer. tfjs convolutions are channels-last, so the conv net runs in NHWC: same arithmetic and
 * FLOPs as the spec's NCHW. Initialisation follows tfjs-layers' defaults (Glorot-uniform kernels,
 * zero biases, norm scale 1 and offset 0), drawn from gesso's seeded Rng.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/core/rng.ts';
import { CONVNET, TRANSFORMER, type WorkloadName } from '../lib/workloads.ts';

/** A parameter's shape and initial values, independent of any tfjs backend. */
export interface ParamInit {
  shape: number[];
  values: Float32Array;
}

/** Looks a parameter tensor up by name (variables on one backend, plain tensors on another). */
export type Params = (name: string) => tf.Tensor;

class ParamBuilder {
  readonly params = new Map<string, ParamInit>();
  constructor(private readonly rng: Rng) {}

  /** Glorot-uniform weight; fan-in/out count the receptive field as tfjs-layers does. */
  glorot(name: string, shape: number[], fanIn: number, fanOut: number): void {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const n = shape.reduce((a, b) => a * b, 1);
    this.params.set(name, { shape, values: this.rng.uniformArray(n, -limit, limit) });
  }

  fill(name: string, length: number, value: number): void {
    this.params.set(name, { shape: [length], values: new Float32Array(length).fill(value) });
  }

  conv(name: string, cin: number, cout: number): void {
    this.glorot(`${name}.w`, [3, 3, cin, cout], 9 * cin, 9 * cout); // HWIO, tfjs's filter layout
    this.fill(`${name}.b`, cout, 0);
  }

  norm(name: string, channels: number): void {
    this.fill(`${name}.gamma`, channels, 1);
    this.fill(`${name}.beta`, channels, 0);
  }

  linear(name: string, cin: number, cout: number): void {
    this.glorot(`${name}.w`, [cin, cout], cin, cout);
    this.fill(`${name}.b`, cout, 0);
  }

  resBlock(name: string, c: number): void {
    this.norm(`${name}.norm1`, c);
    this.conv(`${name}.conv1`, c, c);
    this.norm(`${name}.norm2`, c);
    this.conv(`${name}.conv2`, c, c);
  }
}

/** Every parameter of a workload, with seeded initial values. */
export function initParams(name: WorkloadName, seed: number): Map<string, ParamInit> {
  const b = new ParamBuilder(new Rng(seed));
  if (name === 'convnet') {
    b.conv('stem', 3, 32);
    b.resBlock('res0', 32);
    b.conv('down1', 32, 64);
    b.resBlock('res1', 64);
    b.conv('down2', 64, 128);
    b.resBlock('res2a', 128);
    b.resBlock('res2b', 128);
    b.conv('up1', 128, 64);
    b.resBlock('res3', 64);
    b.conv('up2', 64, 32);
    b.resBlock('res4', 32);
    b.norm('head_norm', 32);
    b.conv('head', 32, 3);
  } else {
    const { width: d, hidden } = TRANSFORMER;
    b.norm('ln1', d);
    for (const proj of ['q', 'k', 'v', 'o']) b.linear(proj, d, d);
    b.norm('ln2', d);
    b.linear('w1', d, hidden);
    b.linear('w2', hidden, d);
  }
  return b.params;
}

/** Input shape in tfjs's layout (NHWC for the conv net). */
export function tfjsInputShape(name: WorkloadName): number[] {
  if (name === 'convnet') return [CONVNET.batch, CONVNET.size, CONVNET.size, CONVNET.channels];
  return [TRANSFORMER.batch, TRANSFORMER.seq, TRANSFORMER.width];
}

function conv(p: Params, name: string, x: tf.Tensor4D, stride = 1): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: p(`${name}.w`) as tf.Tensor4D, strides: stride, pad: 1, bias: p(`${name}.b`) });
}

function silu(x: tf.Tensor4D): tf.Tensor4D {
  return tf.mul(x, tf.sigmoid(x));
}

function groupNorm(p: Params, name: string, x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const g = CONVNET.groups;
  const grouped = tf.reshape(x, [b, h * w, g, c / g]); // (B, HW, G, C/G)
  const { mean, variance } = tf.moments(grouped, [1, 3], true);
  const normed = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, CONVNET.groupNormEps)));
  return tf.add(tf.mul(tf.reshape(normed, [b, h, w, c]), p(`${name}.gamma`)), p(`${name}.beta`));
}

function resBlock(p: Params, name: string, x: tf.Tensor4D): tf.Tensor4D {
  let h = conv(p, `${name}.conv1`, silu(groupNorm(p, `${name}.norm1`, x)));
  h = conv(p, `${name}.conv2`, silu(groupNorm(p, `${name}.norm2`, h)));
  return tf.add(x, h);
}

function upsample2(x: tf.Tensor4D): tf.Tensor4D {
  // Nearest, no half-pixel centres: source index floor(dst / 2), as PyTorch's mode="nearest".
  return tf.image.resizeNearestNeighbor(x, [x.shape[1] * 2, x.shape[2] * 2]);
}

function convNet(p: Params, x: tf.Tensor4D): tf.Tensor4D {
  let h = resBlock(p, 'res0', conv(p, 'stem', x)); // (B, 64, 64, 32)
  h = resBlock(p, 'res1', conv(p, 'down1', h, 2)); // (B, 32, 32, 64)
  h = resBlock(p, 'res2b', resBlock(p, 'res2a', conv(p, 'down2', h, 2))); // (B, 16, 16, 128)
  h = resBlock(p, 'res3', conv(p, 'up1', upsample2(h))); // (B, 32, 32, 64)
  h = resBlock(p, 'res4', conv(p, 'up2', upsample2(h))); // (B, 64, 64, 32)
  return conv(p, 'head', silu(groupNorm(p, 'head_norm', h))); // (B, 64, 64, 3)
}

function layerNorm(p: Params, name: string, x: tf.Tensor2D): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, TRANSFORMER.layerNormEps)));
  return tf.add(tf.mul(normed, p(`${name}.gamma`)), p(`${name}.beta`));
}

function linear(p: Params, name: string, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, p(`${name}.w`) as tf.Tensor2D), p(`${name}.b`));
}

function gelu(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)); // exact, erf form
}

function transformer(p: Params, x3: tf.Tensor3D): tf.Tensor3D {
  const { batch: b, seq: s, width: d, heads, headDim } = TRANSFORMER;
  const x = tf.reshape<tf.Rank.R2>(x3, [b * s, d]); // (BS, D)
  const a = layerNorm(p, 'ln1', x);
  const split = (t: tf.Tensor2D): tf.Tensor3D =>
    tf.reshape<tf.Rank.R3>(tf.transpose(tf.reshape(t, [b, s, heads, headDim]), [0, 2, 1, 3]), [b * heads, s, headDim]); // (BH, S, Dh)
  const q = split(linear(p, 'q', a));
  const k = split(linear(p, 'k', a));
  const v = split(linear(p, 'v', a));
  const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(headDim)); // (BH, S, S)
  const att = tf.matMul(tf.softmax(scores), v); // (BH, S, Dh)
  const merged = tf.reshape<tf.Rank.R2>(tf.transpose(tf.reshape(att, [b, heads, s, headDim]), [0, 2, 1, 3]), [b * s, d]); // (BS, D)
  const h = tf.add<tf.Tensor2D>(x, linear(p, 'o', merged)); // (BS, D)
  const out = tf.add(h, linear(p, 'w2', gelu(linear(p, 'w1', layerNorm(p, 'ln2', h)))));
  return tf.reshape<tf.Rank.R3>(out, [b, s, d]);
}

/** The workload's forward pass on the current backend. */
export function forward(name: WorkloadName, p: Params, x: tf.Tensor): tf.Tensor {
  return name === 'convnet' ? convNet(p, x as tf.Tensor4D) : transformer(p, x as tf.Tensor3D);
}
