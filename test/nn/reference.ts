/**
 * Plain-loop reference implementations of the nn layers, written from the textbook definitions
 * (PyTorch's documented semantics) and sharing no code with src/nn. Row-major flat arrays throughout.
 */
type Arr = ArrayLike<number>;

/** y (rows, out) = x (rows, in) Wᵀ + b, W (out, in). */
export function linearRef(x: Arr, rows: number, inF: number, w: Arr, b: Arr | null, outF: number): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = s;
    }
  }
  return y;
}

export interface ConvGeo {
  stride: [number, number];
  pad: [number, number];
  dil: [number, number];
  groups: number;
}

/** Direct convolution: x (N, C, H, W), w (O, C/g, kh, kw) -> (N, O, Ho, Wo). */
export function conv2dRef(x: Arr, [n, c, h, wd]: number[], w: Arr, [o, , kh, kw]: number[], b: Arr | null, geo: ConvGeo): { y: Float64Array; shape: number[] } {
  const ho = Math.floor((h + 2 * geo.pad[0] - geo.dil[0] * (kh - 1) - 1) / geo.stride[0]) + 1;
  const wo = Math.floor((wd + 2 * geo.pad[1] - geo.dil[1] * (kw - 1) - 1) / geo.stride[1]) + 1;
  const cg = c / geo.groups;
  const og = o / geo.groups;
  const y = new Float64Array(n * o * ho * wo);
  for (let ni = 0; ni < n; ni++)
    for (let oi = 0; oi < o; oi++) {
      const grp = Math.floor(oi / og);
      for (let yi = 0; yi < ho; yi++)
        for (let xi = 0; xi < wo; xi++) {
          let s = b ? b[oi] : 0;
          for (let ci = 0; ci < cg; ci++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = yi * geo.stride[0] - geo.pad[0] + ky * geo.dil[0];
                const ix = xi * geo.stride[1] - geo.pad[1] + kx * geo.dil[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                const cin = grp * cg + ci;
                s += x[((ni * c + cin) * h + iy) * wd + ix] * w[((oi * cg + ci) * kh + ky) * kw + kx];
              }
          y[((ni * o + oi) * ho + yi) * wo + xi] = s;
        }
    }
  return { y, shape: [n, o, ho, wo] };
}

/** Transposed convolution by scattering: x (N, C, H, W), w (C, O/g, kh, kw) -> (N, O, Ho, Wo). */
export function convTranspose2dRef(
  x: Arr,
  [n, c, h, wd]: number[],
  w: Arr,
  [, og, kh, kw]: number[],
  b: Arr | null,
  geo: ConvGeo,
  outPad: [number, number],
): { y: Float64Array; shape: number[] } {
  const o = og * geo.groups;
  const ho = (h - 1) * geo.stride[0] - 2 * geo.pad[0] + geo.dil[0] * (kh - 1) + outPad[0] + 1;
  const wo = (wd - 1) * geo.stride[1] - 2 * geo.pad[1] + geo.dil[1] * (kw - 1) + outPad[1] + 1;
  const cg = c / geo.groups;
  const y = new Float64Array(n * o * ho * wo);
  for (let ni = 0; ni < n; ni++) for (let oi = 0; oi < o; oi++) for (let p = 0; p < ho * wo; p++) y[(ni * o + oi) * ho * wo + p] = b ? b[oi] : 0;
  for (let ni = 0; ni < n; ni++)
    for (let ci = 0; ci < c; ci++) {
      const grp = Math.floor(ci / cg);
      for (let iy = 0; iy < h; iy++)
        for (let ix = 0; ix < wd; ix++) {
          const v = x[((ni * c + ci) * h + iy) * wd + ix];
          for (let oj = 0; oj < og; oj++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const oy = iy * geo.stride[0] - geo.pad[0] + ky * geo.dil[0];
                const ox = ix * geo.stride[1] - geo.pad[1] + kx * geo.dil[1];
                if (oy < 0 || oy >= ho || ox < 0 || ox >= wo) continue;
                const oc = grp * og + oj;
                y[((ni * o + oc) * ho + oy) * wo + ox] += v * w[((ci * og + oj) * kh + ky) * kw + kx];
              }
        }
    }
  return { y, shape: [n, o, ho, wo] };
}

/** GroupNorm: x (N, C, S) with S the flattened positions; w, b (C) or null. */
export function groupNormRef(x: Arr, n: number, c: number, s: number, groups: number, eps: number, w: Arr | null, b: Arr | null): Float64Array {
  const y = new Float64Array(n * c * s);
  const per = c / groups;
  for (let ni = 0; ni < n; ni++)
    for (let gi = 0; gi < groups; gi++) {
      const start = (ni * c + gi * per) * s;
      const count = per * s;
      let mean = 0;
      for (let k = 0; k < count; k++) mean += x[start + k];
      mean /= count;
      let v = 0;
      for (let k = 0; k < count; k++) v += (x[start + k] - mean) ** 2;
      v /= count;
      for (let k = 0; k < count; k++) {
        const ch = gi * per + Math.floor(k / s);
        const norm = (x[start + k] - mean) / Math.sqrt(v + eps);
        y[start + k] = norm * (w ? w[ch] : 1) + (b ? b[ch] : 0);
      }
    }
  return y;
}

/** LayerNorm over the last dim D of (rows, D). */
export function layerNormRef(x: Arr, rows: number, d: number, eps: number, w: Arr | null, b: Arr | null): Float64Array {
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[r * d + i] - mean) ** 2;
    v /= d;
    for (let i = 0; i < d; i++) y[r * d + i] = ((x[r * d + i] - mean) / Math.sqrt(v + eps)) * (w ? w[i] : 1) + (b ? b[i] : 0);
  }
  return y;
}

export interface AttnWeights {
  wq: Arr;
  wk: Arr;
  wv: Arr;
  wo: Arr;
  bo: Arr | null;
}

/**
 * Multi-head attention, one query at a time: x (B, T, D), ctx (B, S, Dc), heads of width dh,
 * allowed(b, h, t, s) says whether query t may attend to key s.
 */
export function attentionRef(
  x: Arr,
  ctx: Arr,
  [bsz, t, d]: number[],
  [s, dc]: number[],
  heads: number,
  dh: number,
  p: AttnWeights,
  allowed: (b: number, h: number, t: number, s: number) => boolean = () => true,
): Float64Array {
  const inner = heads * dh;
  const q = linearRef(x, bsz * t, d, p.wq, null, inner);
  const k = linearRef(ctx, bsz * s, dc, p.wk, null, inner);
  const v = linearRef(ctx, bsz * s, dc, p.wv, null, inner);
  const merged = new Float64Array(bsz * t * inner);
  for (let b = 0; b < bsz; b++)
    for (let h = 0; h < heads; h++)
      for (let ti = 0; ti < t; ti++) {
        const scores: number[] = [];
        for (let si = 0; si < s; si++) {
          let dot = 0;
          for (let e = 0; e < dh; e++) dot += q[(b * t + ti) * inner + h * dh + e] * k[(b * s + si) * inner + h * dh + e];
          scores.push(allowed(b, h, ti, si) ? dot / Math.sqrt(dh) : -Infinity);
        }
        const m = Math.max(...scores);
        const ex = scores.map((z) => Math.exp(z - m));
        const total = ex.reduce((a, z) => a + z, 0);
        for (let e = 0; e < dh; e++) {
          let acc = 0;
          for (let si = 0; si < s; si++) acc += (ex[si] / total) * v[(b * s + si) * inner + h * dh + e];
          merged[(b * t + ti) * inner + h * dh + e] = acc;
        }
      }
  return linearRef(merged, bsz * t, inner, p.wo, p.bo, d);
}

/** diffusers' get_timestep_embedding, written out for one timestep at a time. */
export function timestepRef(ts: readonly number[], dim: number, flip: boolean, shift: number, scale = 1, maxPeriod = 10000): Float64Array {
  const half = Math.floor(dim / 2);
  const out = new Float64Array(ts.length * dim);
  ts.forEach((t, b) => {
    for (let i = 0; i < half; i++) {
      const arg = scale * t * Math.exp((-Math.log(maxPeriod) * i) / (half - shift));
      out[b * dim + (flip ? half + i : i)] = Math.sin(arg);
      out[b * dim + (flip ? i : half + i)] = Math.cos(arg);
    }
  });
  return out;
}

export const siluRef = (v: number): number => v / (1 + Math.exp(-v));

/** Bilinear upsampling, PyTorch align_corners=False: src = (dst + 0.5) / scale - 0.5, clamped below at 0. */
export function bilinearRef(x: Arr, [n, c, h, w]: number[], scale: number): Float64Array {
  const ho = h * scale;
  const wo = w * scale;
  const y = new Float64Array(n * c * ho * wo);
  const src = (dst: number, size: number): [number, number, number] => {
    const f = Math.max((dst + 0.5) / scale - 0.5, 0);
    const i0 = Math.min(Math.floor(f), size - 1);
    const i1 = Math.min(i0 + 1, size - 1);
    return [i0, i1, f - i0];
  };
  for (let p = 0; p < n * c; p++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        const [y0, y1, fy] = src(oy, h);
        const [x0, x1, fx] = src(ox, w);
        const at = (yy: number, xx: number): number => x[(p * h + yy) * w + xx];
        y[(p * ho + oy) * wo + ox] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
      }
  return y;
}
