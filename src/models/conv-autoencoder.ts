/**
 * A small convolutional autoencoder: (B, 3, S, S) -> (B, latent, S/4, S/4) -> (B, 3, S, S).
 * The engine's learning check on real images (drawings rendered by `gesso data`), and the
 * plain (non-KL) cousin of the diffusion VAE.
 */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { silu, tanh } from '../graph/ops/index.ts';
import { Conv2d, GroupNorm, Upsample } from '../nn/index.ts';

export interface ConvAutoencoderConfig {
  width?: number;
  latentChannels?: number;
}

export function buildConvAutoencoder(g: Graph, rng: Rng, config: ConvAutoencoderConfig = {}) {
  const w = config.width ?? 32;
  const latent = config.latentChannels ?? 8;
  const conv = (name: string, cin: number, cout: number, stride = 1) => new Conv2d(g, name, { in: cin, out: cout, kernel: 3, padding: 1, stride }, rng);
  const norm = (name: string, c: number) => new GroupNorm(g, name, { groups: 8, channels: c });
  const up = new Upsample({ scale: 2 });
  const enc = g.scope('encoder', () => ({
    c1: conv('conv1', 3, w, 2),
    n1: norm('norm1', w),
    c2: conv('conv2', w, 2 * w, 2),
    n2: norm('norm2', 2 * w),
    out: conv('conv_out', 2 * w, latent),
  }));
  const dec = g.scope('decoder', () => ({
    in: conv('conv_in', latent, 2 * w),
    n1: norm('norm1', 2 * w),
    c1: conv('conv1', 2 * w, w),
    n2: norm('norm2', w),
    out: conv('conv_out', w, 3),
  }));
  const encode = (x: Tensor): Tensor => {
    let h = silu(enc.n1.forward(enc.c1.forward(x))); // (B, w, S/2, S/2)
    h = silu(enc.n2.forward(enc.c2.forward(h))); // (B, 2w, S/4, S/4)
    return enc.out.forward(h); // (B, latent, S/4, S/4)
  };
  const decode = (z: Tensor): Tensor => {
    let h = silu(dec.n1.forward(dec.in.forward(z))); // (B, 2w, S/4, S/4)
    h = silu(dec.n2.forward(dec.c1.forward(up.forward(h)))); // (B, w, S/2, S/2)
    return tanh(dec.out.forward(up.forward(h))); // (B, 3, S, S) in (-1, 1)
  };
  return { encode, decode, forward: (x: Tensor): Tensor => decode(encode(x)) };
}
