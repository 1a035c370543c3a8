/**
 * Layout conversions between what models take, (C, H, W) planes in [-1, 1], and what image files hold,
 * (H, W, C) rows in [0, 1] (src/image's layout).
 */

/** (3, H, W) in [-1, 1] -> (H, W, 3) in [0, 1], clamped. */
export function planesToPixels(planes: Float32Array, width: number, height: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(n * 3); // (H, W, 3)
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      const v = (planes[c * n + i] + 1) / 2;
      out[i * 3 + c] = v < 0 ? 0 : Math.min(v, 1);
    }
  }
  return out;
}

/** (H, W, 3) in [0, 1] -> (3, H, W) in [-1, 1]. */
export function pixelsToPlanes(pixels: Float32Array, width: number, height: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(n * 3); // (3, H, W)
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[c * n + i] = pixels[i * 3 + c] * 2 - 1;
  }
  return out;
}
