/**
 * diffusers' Downsample2D and Upsample2D with a conv (parameter name `conv`), as the UNet and the VAE
 * use them. The UNet pads the stride-2 conv by 1 on every side; the VAE encoder pads by 0 and adds one
 * row and column of zeros at the bottom/right first (its checkpoints were trained that way).
 */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { pad } from '../graph/ops/index.ts';
import { Conv2d, Upsample, type WeightInit } from '../nn/index.ts';

export class Downsample2D {
  readonly conv: Conv2d;

  /** `padding` 1: UNet (symmetric); 0: VAE (asymmetric pad (0, 1, 0, 1) before the conv). */
  constructor(
    g: Graph,
    name: string,
    channels: number,
    readonly padding: 0 | 1,
    rng: Rng,
    init: WeightInit = 'pytorch',
  ) {
    this.conv = g.scope(name, () => new Conv2d(g, 'conv', { in: channels, out: channels, kernel: 3, stride: 2, padding, init }, rng));
  }

  /** (B, C, H, W) -> (B, C, ceil(H/2), ceil(W/2)) for even H, W: (B, C, H/2, W/2) */
  forward(x: Tensor): Tensor {
    const h = this.padding === 0 ? pad(x, [0, 0, 0, 0, 0, 0, 1, 1]) : x; // (B, C, H+1, W+1)
    return this.conv.forward(h);
  }
}

export class Upsample2D {
  readonly conv: Conv2d;
  private readonly up = new Upsample({ scale: 2, mode: 'nearest' });

  constructor(g: Graph, name: string, channels: number, rng: Rng, init: WeightInit = 'pytorch') {
    this.conv = g.scope(name, () => new Conv2d(g, 'conv', { in: channels, out: channels, kernel: 3, padding: 1, init }, rng));
  }

  /** (B, C, H, W) -> (B, C, 2H, 2W): nearest-neighbour doubling, then a 3x3 conv. */
  forward(x: Tensor): Tensor {
    return this.conv.forward(this.up.forward(x));
  }
}
