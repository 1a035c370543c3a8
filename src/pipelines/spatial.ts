/**
 * Edge padding and cropping of (C, h, w) planes. Exported UNets only take latent sizes that divide by
 * their total downsampling (their upsamplers double sizes and must meet the skips), so a latent size
 * that does not is padded for the UNet call, replicating the last row and column, and the prediction is
 * cropped back. This is what lets any multiple of 8 pixels work with SD's 64-pixel UNets.
 */

/** (C, h, w) -> (C, H, W), H >= h, W >= w, new rows/columns copy the last ones. */
export function padEdges(x: Float32Array, channels: number, h: number, w: number, H: number, W: number): Float32Array {
  if (H === h && W === w) return x;
  const out = new Float32Array(channels * H * W);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < H; y++) {
      const src = c * h * w + Math.min(y, h - 1) * w;
      const dst = c * H * W + y * W;
      out.set(x.subarray(src, src + w), dst);
      out.fill(x[src + w - 1], dst + w, dst + W);
    }
  }
  return out;
}

/** (C, H, W) -> its top-left (C, h, w). */
export function cropTopLeft(x: Float32Array, channels: number, H: number, W: number, h: number, w: number): Float32Array {
  if (H === h && W === w) return x;
  const out = new Float32Array(channels * h * w);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < h; y++) out.set(x.subarray(c * H * W + y * W, c * H * W + y * W + w), c * h * w + y * w);
  }
  return out;
}

/** The smallest multiple of `m` that is >= n. */
export function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}
