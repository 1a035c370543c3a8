/**
 * The feed-forward style network (Johnson, Alahi & Fei-Fei, "Perceptual Losses for Real-Time Style
 * Transfer", 2016), in the ONNX model zoo's fast-neural-style I/O: `input1` (1, 3, H, W) pixels 0-255 ->
 * `output1` the same. Instance norm (Ulyanov et al. 2016) instead of batch norm; upsampling by nearest
 * resize + conv, not transposed conv, to avoid checkerboard artefacts (Odena et al., Distill 2016).
 * Widths default to half of Johnson's (16-32-64, 3 residual blocks) so it trains on a CPU.
 */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import * as op from '../graph/ops/index.ts';
import { Conv2d, InstanceNorm, Upsample } from '../nn/index.ts';

export interface FastNetConfig {
  /** Channels at full, 1/2 and 1/4 resolution. */
  widths: [number, number, number];
  residualBlocks: number;
  /**
   * Convolution padding: 'zeros' (the first gesso-fast-leopard) or 'reflect' (as Johnson et al.'s own code
   * does; zero padding left a light band along the bottom edge). Default 'zeros' for older configs.
   */
  padding?: 'zeros' | 'reflect';
}

export const FAST_NET_DEFAULT: FastNetConfig = { widths: [16, 32, 64], residualBlocks: 3, padding: 'reflect' };
export const FAST_INPUT = 'input1';
export const FAST_OUTPUT = 'output1';

/** Builds the network on `x` (N, 3, H, W), H and W multiples of 4, pixels 0-255; returns (N, 3, H, W) 0-255. */
export function buildFastNet(g: Graph, x: Tensor, config: FastNetConfig, rng: Rng): Tensor {
  const [a, b, c] = config.widths;
  const paddingMode = config.padding ?? 'zeros';
  const convNormRelu = (name: string, cin: number, cout: number, k: number, stride: number, h: Tensor): Tensor => {
    const conv = new Conv2d(g, `${name}.conv`, { in: cin, out: cout, kernel: k, stride, padding: Math.floor(k / 2), paddingMode }, rng);
    return op.relu(new InstanceNorm(g, `${name}.norm`, { channels: cout, affine: true }).forward(conv.forward(h)));
  };
  let h = op.div(x, 255); // the network works on [0, 1]
  h = convNormRelu('enc1', 3, a, 9, 1, h); // (N, a, H, W)
  h = convNormRelu('enc2', a, b, 3, 2, h); // (N, b, H/2, W/2)
  h = convNormRelu('enc3', b, c, 3, 2, h); // (N, c, H/4, W/4)
  for (let i = 0; i < config.residualBlocks; i++) {
    const r = convNormRelu(`res${i}.a`, c, c, 3, 1, h);
    const conv = new Conv2d(g, `res${i}.b.conv`, { in: c, out: c, kernel: 3, padding: 1, paddingMode }, rng);
    h = op.add(h, new InstanceNorm(g, `res${i}.b.norm`, { channels: c, affine: true }).forward(conv.forward(r)));
  }
  const up = new Upsample({ scale: 2 });
  h = convNormRelu('dec1', c, b, 3, 1, up.forward(h)); // (N, b, H/2, W/2)
  h = convNormRelu('dec2', b, a, 3, 1, up.forward(h)); // (N, a, H, W)
  const out = new Conv2d(g, 'out', { in: a, out: 3, kernel: 9, padding: 4, paddingMode }, rng).forward(h);
  return op.mul(op.sigmoid(out), 255); // (N, 3, H, W) in 0-255
}
