/**
 * Layout conversions between what models take, (C, H, W) planes, and what image files hold, (H, W, C)
 * rows in [0, 1] (src/image's layout). Planes are in [-1, 1] for the diffusion pipelines ('signed', the
 * default) or in [0, 1] for style transfer's encoders ('unit'); the one transpose serves both.
 */

/** The value range of planes: 'signed' [-1, 1] or 'unit' [0, 1]. */
export type PlaneRange = 'signed' | 'unit';

/** (3, H, W) planes -> (H, W, 3) in [0, 1], clamped. */
export function planesToPixels(planes: Float32Array, width: number, height: number, range: PlaneRange = 'signed'): Float32Array {
  const n = width * height;
  const [scale, shift] = range === 'signed' ? [0.5, 0.5] : [1, 0];
  const out = new Float32Array(n * 3); // (H, W, 3)
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      const v = (planes[c * n + i] as number) * scale + shift;
      out[i * 3 + c] = v < 0 ? 0 : Math.min(v, 1);
    }
  }
  return out;
}

/** (H, W, 3) in [0, 1] -> (3, H, W) planes in `range`. */
export function pixelsToPlanes(pixels: Float32Array, width: number, height: number, range: PlaneRange = 'signed'): Float32Array {
  const n = width * height;
  const [scale, shift] = range === 'signed' ? [2, -1] : [1, 0];
  const out = new Float32Array(n * 3); // (3, H, W)
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[c * n + i] = (pixels[i * 3 + c] as number) * scale + shift;
  }
  return out;
}
