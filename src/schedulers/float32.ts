/**
 * float32 arithmetic as diffusers' tables see it. diffusers builds `betas` with
 * `torch.linspace(…, dtype=torch.float32)` and keeps `alphas_cumprod` and the σ table in float32;
 * gesso holds the same float32 values (in float64 arrays) so its schedulers follow diffusers' trajectory.
 */

const f32 = Math.fround;

/**
 * float32 `a·b + c` with one rounding (a fused multiply-add). With a float32 `a`, an integer `b` below
 * 2^29 and a float32 `c` of similar size, a·b + c is exact in float64, so rounding it once to float32 is the FMA.
 */
function fma32(a: number, b: number, c: number): number {
  return f32(a * b + c);
}

/**
 * `torch.linspace(start, end, n, dtype=torch.float32)` value for value, as PyTorch's CPU kernel computes it
 * (measured bit-exact against torch 1.13, AVX2 kernels): step = (end − start)/(n − 1) in float32; the first
 * half counts up from start, the second half down from end (so both ends are exact); 16 values at a time
 * as two 8-wide vectors whose base start + step·i (or end − step·(n−1−i)) is one fused multiply-add and
 * whose lanes add step·j in plain float32; the last n mod 16 values one by one, each a fused multiply-add.
 * Other vector widths (AVX-512 builds) round some betas differently by 1 ulp (~1e-7 relative).
 */
export function torchLinspaceFloat32(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = f32(start);
    return out;
  }
  const a = f32(start);
  const b = f32(end);
  const step = f32((b - a) / (n - 1));
  const halfway = Math.floor(n / 2);
  const at = (i: number): number => (i < halfway ? fma32(step, i, a) : fma32(-step, n - 1 - i, b));
  const vectorised = Math.floor(n / 16) * 16;
  for (let base = 0; base < vectorised; base += 8) {
    const first = at(base);
    for (let j = 0; j < 8; j++) out[base + j] = f32(first + f32(step * j));
  }
  for (let i = vectorised; i < n; i++) out[i] = at(i);
  return out;
}

/**
 * `torch.cumprod` of float32 `alphas` = 1 − β: PyTorch's CPU kernel multiplies in float64 and rounds each
 * running product to float32 (measured against torch 1.13).
 */
export function cumprodFloat32(alphas: ArrayLike<number>): Float64Array {
  const out = new Float64Array(alphas.length);
  let product = 1;
  for (let i = 0; i < alphas.length; i++) {
    product *= alphas[i] as number;
    out[i] = f32(product);
  }
  return out;
}
