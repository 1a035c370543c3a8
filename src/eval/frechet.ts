/**
 * Fréchet distance between two sets of feature vectors, each summarised as a Gaussian (mean μ,
 * covariance C), as FID does with Inception features (Heusel et al. 2017, "GANs Trained by a Two
 * Time-Scale Update Rule Converge to a Local Nash Equilibrium"; the Fréchet distance between Gaussians
 * is Dowson & Landau 1982):
 *
 *   d² = |μ₁ − μ₂|² + tr(C₁ + C₂ − 2 (C₁^½ C₂ C₁^½)^½)
 *
 * C₁^½ C₂ C₁^½ is symmetric positive semi-definite (unlike C₁C₂), so both square roots come from one
 * symmetric eigen-decomposition each (cyclic Jacobi, below), with eigenvalues that round-off made
 * slightly negative clamped to 0. Only the trace of the outer root is needed: the sum of the square
 * roots of the eigenvalues. Covariances are the unbiased ones (divide by N − 1), as numpy.cov and FID's
 * reference code. Plain TypeScript in float64: for 128-d features a decomposition takes milliseconds.
 */
import { InputError } from '../core/errors.ts';

/** A set of N feature vectors of D values, row-major (N, D). */
export interface FeatureSet {
  data: Float64Array | Float32Array;
  count: number;
  dim: number;
}

export interface GaussianStats {
  dim: number;
  /** (D) */
  mean: Float64Array;
  /** (D, D), row-major, symmetric */
  cov: Float64Array;
}

/** Mean and unbiased covariance of a feature set (needs at least 2 vectors). */
export function featureStats(set: FeatureSet): GaussianStats {
  const { data, count: n, dim: d } = set;
  if (data.length !== n * d) throw new InputError(`feature set of ${n} vectors of ${d} needs ${n * d} values, got ${data.length}`);
  if (n < 2) throw new InputError(`a covariance needs at least 2 feature vectors, got ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] = mean[k] + data[i * d + k];
  for (let k = 0; k < d; k++) mean[k] = mean[k] / n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) row[k] = data[i * d + k] - mean[k];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] = cov[a * d + b] + ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { dim: d, mean, cov };
}

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
  for (let i = 0; i < d * d; i++) scale += a[i] ** 2;
  const tolerance = (options.tolerance ?? 1e-24) * Math.max(scale, Number.MIN_VALUE);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] ** 2;
    if (off <= tolerance) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const app = a[p * d + p];
        const aqq = a[q * d + q];
        // The rotation angle that zeroes a[p][q]: t = tan θ, the smaller root of t² + 2τt − 1 = 0.
        const tau = (aqq - app) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          // A ← A J on columns p, q
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          // A ← Jᵀ A on rows p, q
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i];
  return { values, vectors: v };
}

/** The symmetric PSD square root V diag(√max(λ, 0)) Vᵀ of a symmetric matrix. */
export function sqrtSymmetric(matrix: Float64Array, dim: number): Float64Array {
  const d = dim;
  const { values, vectors } = symmetricEigen(matrix, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const root = Math.sqrt(Math.max(values[k], 0));
    if (root === 0) continue;
    for (let i = 0; i < d; i++) {
      const vik = vectors[i * d + k] * root;
      if (vik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j] + vik * vectors[j * d + k];
    }
  }
  return out;
}

/** (D, D) × (D, D), row-major. */
function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j] + aik * b[k * d + j];
    }
  }
  return out;
}

/** d² between two Gaussians (see the file comment); never negative (round-off is clamped). */
export function frechetDistanceFromStats(s1: GaussianStats, s2: GaussianStats): number {
  const d = s1.dim;
  if (s2.dim !== d) throw new InputError(`Fréchet distance: feature sizes differ (${d} and ${s2.dim})`);
  let meanTerm = 0;
  for (let k = 0; k < d; k++) meanTerm += (s1.mean[k] - s2.mean[k]) ** 2;
  const root1 = sqrtSymmetric(s1.cov, d);
  const inner = matmul(matmul(root1, s2.cov, d), root1, d);
  // Symmetrise away round-off before the second decomposition.
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const m = (inner[i * d + j] + inner[j * d + i]) / 2;
      inner[i * d + j] = m;
      inner[j * d + i] = m;
    }
  }
  const { values } = symmetricEigen(inner, d);
  let traceRoot = 0;
  for (const lambda of values) traceRoot += Math.sqrt(Math.max(lambda, 0));
  let trace = 0;
  for (let k = 0; k < d; k++) trace += s1.cov[k * d + k] + s2.cov[k * d + k];
  return Math.max(0, meanTerm + trace - 2 * traceRoot);
}

/** Fréchet distance between two feature sets (each with at least 2 vectors of the same size). */
export function frechetDistance(a: FeatureSet, b: FeatureSet): number {
  return frechetDistanceFromStats(featureStats(a), featureStats(b));
}
