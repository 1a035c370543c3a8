/**
 * Bicubic upscaling by an integer factor, the textbook baseline for super-resolution: Keys' cubic
 * convolution kernel (Keys 1981) with a = -0.5 (what MATLAB's imresize and PIL use; PyTorch uses -0.75),
 * half-pixel centres (output x samples input (x + 0.5) / f - 0.5, as PyTorch align_corners=False), edge
 * pixels repeated past the border.
 *
 * Written out here because sharp/libvips enlarges differently: on 4× it repeats values in runs of
 * three and shifts edges by about a pixel against half-pixel centres (measured with sharp 0.35 /
 * libvips 8.18), which is not the bicubic a super-resolution paper compares against.
 */
import { InputError } from '../core/errors.ts';

/** Keys' cubic kernel. */
export function keysCubic(t: number, a = -0.5): number {
  const x = Math.abs(t);
  if (x <= 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
  if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
  return 0;
}

/** For each output coordinate: the 4 input indices (clamped) and their weights (kernel support at most 2). */
function taps(inSize: number, factor: number, kernel: (t: number) => number): { index: Int32Array; weight: Float64Array } {
  const outSize = inSize * factor;
  const index = new Int32Array(outSize * 4);
  const weight = new Float64Array(outSize * 4);
  for (let o = 0; o < outSize; o++) {
    const s = (o + 0.5) / factor - 0.5;
    const base = Math.floor(s);
    for (let k = 0; k < 4; k++) {
      const i = base - 1 + k;
      index[o * 4 + k] = Math.min(Math.max(i, 0), inSize - 1);
      weight[o * 4 + k] = kernel(s - i);
    }
  }
  return { index, weight };
}

/** (channels, h, w) bytes -> (channels, h·f, w·f) bytes, rounded and clamped to 0–255. */
export function bicubicUpscale(planes: Uint8Array, channels: number, h: number, w: number, factor: number, a = -0.5): Uint8Array {
  return separableUpscale(planes, channels, h, w, factor, (t) => keysCubic(t, a));
}

/** The same with the triangle kernel: bilinear with half-pixel centres (ONNX Resize linear, half_pixel). */
export function bilinearUpscale(planes: Uint8Array, channels: number, h: number, w: number, factor: number): Uint8Array {
  return separableUpscale(planes, channels, h, w, factor, (t) => Math.max(0, 1 - Math.abs(t)));
}

function separableUpscale(planes: Uint8Array, channels: number, h: number, w: number, factor: number, kernel: (t: number) => number): Uint8Array {
  if (planes.length !== channels * h * w) throw new InputError(`upscale: ${planes.length} values for (${channels}, ${h}, ${w})`);
  if (!Number.isInteger(factor) || factor < 1) throw new InputError(`upscale: factor ${factor} must be a positive integer`);
  const oh = h * factor;
  const ow = w * factor;
  const tx = taps(w, factor, kernel);
  const ty = taps(h, factor, kernel);
  const out = new Uint8Array(channels * oh * ow);
  const rows = new Float64Array(h * ow); // horizontally resampled plane
  for (let c = 0; c < channels; c++) {
    const src = c * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < ow; x++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += tx.weight[x * 4 + k] * (planes[src + y * w + tx.index[x * 4 + k]] as number);
        rows[y * ow + x] = v;
      }
    }
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += ty.weight[y * 4 + k] * (rows[ty.index[y * 4 + k] * ow + x] as number);
        out[(c * oh + y) * ow + x] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}
