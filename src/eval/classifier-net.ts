/**
 * The evaluation's drawing classifier: a small convnet over (B, 3, S, S) images in [-1, 1] (S a multiple
 * of 16; 64 for gesso's drawings). Four 3×3 convolutions with GroupNorm and SiLU, each but the second
 * halving the resolution, then a global mean pool to a `featureDim`-wide vector (the features the
 * Fréchet distance uses) and a linear head to class logits.
 */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { reduceMean, silu } from '../graph/ops/index.ts';
import { Conv2d, GroupNorm, Linear } from '../nn/index.ts';

export interface ClassifierNetConfig {
  classes: number;
  /** Input side in pixels. */
  size: number;
  /** Channels of the four conv stages; the last one is the feature width. */
  widths: readonly [number, number, number, number];
}

export interface ClassifierNet {
  /** (B, 3, S, S) -> logits (B, classes) and pooled features (B, widths[3]). */
  forward(x: Tensor): { logits: Tensor; features: Tensor };
}

export function buildClassifierNet(g: Graph, rng: Rng, config: ClassifierNetConfig): ClassifierNet {
  const [w0, w1, w2, w3] = config.widths;
  const stage = (name: string, cin: number, cout: number, stride: number) => ({
    conv: new Conv2d(g, `${name}.conv`, { in: cin, out: cout, kernel: 3, padding: 1, stride }, rng),
    norm: new GroupNorm(g, `${name}.norm`, { groups: 8, channels: cout }),
  });
  const stages = g.scope('classifier', () => [
    stage('stage0', 3, w0, 2), // (B, w0, S/2, S/2)
    stage('stage1', w0, w1, 1), // (B, w1, S/2, S/2)
    stage('stage2', w1, w2, 2), // (B, w2, S/4, S/4)
    stage('stage3', w2, w3, 2), // (B, w3, S/8, S/8)
  ]);
  const head = g.scope('classifier', () => new Linear(g, 'head', { in: w3, out: config.classes }, rng));
  return {
    forward(x: Tensor) {
      let h = x;
      for (const s of stages) h = silu(s.norm.forward(s.conv.forward(h)));
      const features = reduceMean(h, [2, 3]); // (B, w3)
      return { logits: head.forward(features), features }; // (B, classes), (B, w3)
    },
  };
}
