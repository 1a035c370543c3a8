/** Symmetric eigen-decomposition, shared by the Fréchet distance (src/eval) and GAN latent PCA (src/pipelines). */
import { InputError } from './errors.ts';

/**
 * Eigen-decomposition of a symmetric (D, D) matrix by cyclic Jacobi rotations (Golub & Van Loan,
 * "Matrix Computations", §8.5): A = V diag(values) Vᵀ, eigenvectors in the columns of V.
 */
export function symmetricEigen(
  matrix: Float64Array,
  dim: number,
  options: { maxSweeps?: number; tolerance?: number } = {},
): { values: Float64Array; vectors: Float64Array } {
  const d = dim;
  if (matrix.length !== d * d) throw new InputError(`a ${d}x${d} matrix needs ${d * d} values, got ${matrix.length}`);
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  const maxSweeps = options.maxSweeps ?? 100;
  let scale = 0;
  for (let i = 0; i < d * d; i++) scale += (a[i] as number) ** 2;
  const tolerance = (options.tolerance ?? 1e-24) * Math.max(scale, Number.MIN_VALUE);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += (a[p * d + q] as number) ** 2;
    if (off <= tolerance) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q] as number;
        if (apq === 0) continue;
        const app = a[p * d + p] as number;
        const aqq = a[q * d + q] as number;
        // The rotation angle that zeroes a[p][q]: t = tan θ, the smaller root of t² + 2τt − 1 = 0.
        const tau = (aqq - app) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          // A ← A J on columns p, q
          const akp = a[k * d + p] as number;
          const akq = a[k * d + q] as number;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          // A ← Jᵀ A on rows p, q
          const apk = a[p * d + k] as number;
          const aqk = a[q * d + k] as number;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p] as number;
          const vkq = v[k * d + q] as number;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i] as number;
  return { values, vectors: v };
}
