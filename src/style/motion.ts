/**
 * Motion between consecutive frames, for coherent stylised sequences: block-matching optical flow on
 * luminance (each 8×8 block of the new frame finds the displacement into the previous frame with the
 * least mean absolute difference, within ±radius pixels), interpolated to every pixel; backward warping
 * with bilinear sampling; and a confidence per pixel from how well the warped previous frame predicts
 * the new one (low where the estimate is wrong or the region was hidden before: Ruder et al. 2016 use
 * such a mask to leave disoccluded regions free).
 */
import type { RgbPlanes } from './planes.ts';

/** Per pixel of the new frame: where it was in the previous frame, as an offset (x + dx, y + dy). */
export interface Flow {
  dx: Float32Array; // (H·W)
  dy: Float32Array; // (H·W)
  width: number;
  height: number;
}

export interface FlowOptions {
  /** Block side in pixels (default 8). */
  block?: number;
  /** Largest displacement searched, in pixels per frame (default 12). */
  radius?: number;
}

/** Rec. 601 luma of (3, H, W) planes: (H·W). */
export function luma(p: RgbPlanes): Float32Array {
  const n = p.width * p.height;
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = 0.299 * (p.data[i] as number) + 0.587 * (p.data[n + i] as number) + 0.114 * (p.data[2 * n + i] as number);
  return y;
}

/** Mean absolute difference of block (bx, by) of `next` against `prev` displaced by (dx, dy); in-frame pixels only. */
function blockCost(prev: Float32Array, next: Float32Array, w: number, h: number, x0: number, y0: number, bs: number, dx: number, dy: number): number {
  let sum = 0;
  let count = 0;
  const x1 = Math.min(w, x0 + bs);
  const y1 = Math.min(h, y0 + bs);
  for (let y = y0; y < y1; y++) {
    const py = y + dy;
    if (py < 0 || py >= h) continue;
    for (let x = x0; x < x1; x++) {
      const px = x + dx;
      if (px < 0 || px >= w) continue;
      sum += Math.abs((next[y * w + x] as number) - (prev[py * w + px] as number));
      count++;
    }
  }
  // A displacement that leaves most of the block outside the frame is not evidence.
  return count * 2 < (x1 - x0) * (y1 - y0) ? Number.POSITIVE_INFINITY : sum / count;
}

/** Backward flow from `next` to `prev` (same size). */
export function estimateFlow(prev: RgbPlanes, next: RgbPlanes, o: FlowOptions = {}): Flow {
  const bs = o.block ?? 8;
  const radius = o.radius ?? 12;
  const { width: w, height: h } = next;
  const a = luma(prev);
  const b = luma(next);
  const bw = Math.ceil(w / bs);
  const bh = Math.ceil(h / bs);
  const bdx = new Float32Array(bw * bh);
  const bdy = new Float32Array(bw * bh);
  for (let j = 0; j < bh; j++) {
    for (let i = 0; i < bw; i++) {
      let best = blockCost(a, b, w, h, i * bs, j * bs, bs, 0, 0);
      let bx = 0;
      let by = 0;
      for (let dy = -radius; dy <= radius; dy++) {
        for (let dx = -radius; dx <= radius; dx++) {
          // A small penalty per pixel of displacement: flat blocks (any offset fits) stay still.
          const c = blockCost(a, b, w, h, i * bs, j * bs, bs, dx, dy) + 0.0005 * (Math.abs(dx) + Math.abs(dy));
          if (c < best) [best, bx, by] = [c, dx, dy];
        }
      }
      bdx[j * bw + i] = bx;
      bdy[j * bw + i] = by;
    }
  }
  // Bilinear interpolation between block centres gives every pixel a vector.
  const dx = new Float32Array(w * h);
  const dy = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) / bs - 0.5, 0), bh - 1);
    const j0 = Math.floor(fy);
    const j1 = Math.min(j0 + 1, bh - 1);
    const ty = fy - j0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max((x + 0.5) / bs - 0.5, 0), bw - 1);
      const i0 = Math.floor(fx);
      const i1 = Math.min(i0 + 1, bw - 1);
      const tx = fx - i0;
      const lerp = (f: Float32Array): number =>
        (1 - ty) * ((1 - tx) * (f[j0 * bw + i0] as number) + tx * (f[j0 * bw + i1] as number)) +
        ty * ((1 - tx) * (f[j1 * bw + i0] as number) + tx * (f[j1 * bw + i1] as number));
      dx[y * w + x] = lerp(bdx);
      dy[y * w + x] = lerp(bdy);
    }
  }
  return { dx, dy, width: w, height: h };
}

/** `prev` sampled at (x + dx, y + dy) (bilinear); `valid` is 0 where that point falls outside the frame. */
export function warp(prev: RgbPlanes, flow: Flow): { image: RgbPlanes; valid: Float32Array } {
  const { width: w, height: h } = prev;
  const n = w * h;
  const data = new Float32Array(3 * n);
  const valid = new Float32Array(n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const sx = x + (flow.dx[p] as number);
      const sy = y + (flow.dy[p] as number);
      if (sx < 0 || sy < 0 || sx > w - 1 || sy > h - 1) continue;
      valid[p] = 1;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, w - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      const tx = sx - x0;
      const ty = sy - y0;
      for (let c = 0; c < 3; c++) {
        const o = c * n;
        data[o + p] =
          (1 - ty) * ((1 - tx) * (prev.data[o + y0 * w + x0] as number) + tx * (prev.data[o + y0 * w + x1] as number)) +
          ty * ((1 - tx) * (prev.data[o + y1 * w + x0] as number) + tx * (prev.data[o + y1 * w + x1] as number));
      }
    }
  }
  return { image: { data, width: w, height: h }, valid };
}

/**
 * How far to trust the warped previous frame at each pixel: 1 where it predicts the new input frame
 * exactly, falling linearly to 0 at a mean RGB error of `tolerance` (default 0.08), 0 outside the frame.
 */
export function warpConfidence(warpedInput: RgbPlanes, valid: Float32Array, next: RgbPlanes, tolerance = 0.08): Float32Array {
  const n = next.width * next.height;
  const conf = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    if (!valid[p]) continue;
    let e = 0;
    for (let c = 0; c < 3; c++) e += Math.abs((warpedInput.data[c * n + p] as number) - (next.data[c * n + p] as number));
    conf[p] = Math.max(0, 1 - e / 3 / tolerance);
  }
  return conf;
}

/** Motion from `prevInput` to `nextInput`, and how to carry anything aligned with `prevInput` along it. */
export interface FrameMotion {
  flow: Flow;
  confidence: Float32Array;
}

export function frameMotion(prevInput: RgbPlanes, nextInput: RgbPlanes, o: FlowOptions = {}): FrameMotion {
  const flow = estimateFlow(prevInput, nextInput, o);
  const { image, valid } = warp(prevInput, flow);
  return { flow, confidence: warpConfidence(image, valid, nextInput) };
}
