/** Element-wise helpers for scheduler updates on flat Float32Arrays (any shape; the caller keeps the shape). */

/** Σ weight_k · x_k, computed in float64 per element, into a new array. */
export function weightedSum(terms: ReadonlyArray<readonly [number, Float32Array]>): Float32Array {
  const first = terms[0];
  if (!first) throw new RangeError('weightedSum needs at least one term');
  const n = first[1].length;
  for (const [, x] of terms) if (x.length !== n) throw new RangeError(`arrays of ${x.length} and ${n} values cannot be combined`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const [w, x] of terms) if (w !== 0) s += w * x[i];
    out[i] = s;
  }
  return out;
}

/** x scaled by a constant, into a new array. */
export function scaled(x: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = factor * x[i];
  return out;
}

/** A copy of x with every value clamped to [−range, range]. */
export function clamped(x: Float32Array, range: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.min(range, Math.max(-range, x[i]));
  return out;
}
