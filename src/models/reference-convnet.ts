/**
 * The engine benchmark's reference conv net (bench/REFERENCE.md, ~0.96M parameters): a small
 * UNet-shaped stack of residual blocks with GroupNorm at 64, 32 and 16 px, no skip connections
 * across scales. PyTorch and tfjs peers build the same network.
 */
import type { Rng } from '../core/rng.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { silu } from '../graph/ops/index.ts';
import { Conv2d, GroupNorm, ResBlock, Upsample } from '../nn/index.ts';

export interface ReferenceConvNet {
  forward(x: Tensor): Tensor;
}

export function buildReferenceConvNet(g: Graph, rng: Rng): ReferenceConvNet {
  const groups = 8;
  const eps = 1e-5;
  const conv = (name: string, cin: number, cout: number, stride = 1) => new Conv2d(g, name, { in: cin, out: cout, kernel: 3, padding: 1, stride }, rng);
  const res = (name: string, c: number) => new ResBlock(g, name, { in: c, groups, eps }, rng);
  const up = new Upsample({ scale: 2 });
  const stem = conv('stem', 3, 32);
  const res1 = res('res1', 32);
  const down1 = conv('down1', 32, 64, 2);
  const res2 = res('res2', 64);
  const down2 = conv('down2', 64, 128, 2);
  const res3a = res('res3a', 128);
  const res3b = res('res3b', 128);
  const up1 = conv('up1', 128, 64);
  const res4 = res('res4', 64);
  const up2 = conv('up2', 64, 32);
  const res5 = res('res5', 32);
  const headNorm = new GroupNorm(g, 'head.norm', { groups, channels: 32, eps });
  const head = conv('head.conv', 32, 3);
  return {
    forward(x: Tensor): Tensor {
      let h = res1.forward(stem.forward(x)); // (B, 32, 64, 64)
      h = res2.forward(down1.forward(h)); // (B, 64, 32, 32)
      h = res3b.forward(res3a.forward(down2.forward(h))); // (B, 128, 16, 16)
      h = res4.forward(up1.forward(up.forward(h))); // (B, 64, 32, 32)
      h = res5.forward(up2.forward(up.forward(h))); // (B, 32, 64, 64)
      return head.forward(silu(headNorm.forward(h))); // (B, 3, 64, 64)
    },
  };
}
