/**
 * Latent arithmetic for exploration: interpolation (spherical and linear), easing curves, and the
 * breeding operators. Pure functions on Float32Array vectors.
 *
 * Why slerp for Gaussian latents: a d-dimensional standard normal vector has norm ≈ √d (it lives near a
 * sphere); the straight line between two such vectors passes through shorter vectors (at t = 0.5 the
 * norm drops to ≈ √(d/2) for independent endpoints), which a generator never saw in training. Slerp
 * (Shoemake 1985; for GAN latents, White 2016 "Sampling Generative Networks") follows the great circle,
 * so the norm stays near √d all the way.
 */
import { InputError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';

export type InterpolationMethod = 'slerp' | 'lerp';
export const EASINGS = ['linear', 'ease-in-out', 'ease-in', 'ease-out'] as const;
export type Easing = (typeof EASINGS)[number];

export function lerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  sameLength(a, b);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) + t * ((b[i] as number) - (a[i] as number));
  return out;
}

/**
 * Spherical interpolation: the angle between a and b is split in proportion t, and the norm is
 * interpolated linearly (so unequal norms blend smoothly). t = 0 returns a, t = 1 returns b, exactly.
 */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  sameLength(a, b);
  if (t === 0) return Float32Array.from(a);
  if (t === 1) return Float32Array.from(b);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  na = Math.sqrt(na);
  nb = Math.sqrt(nb);
  if (na === 0 || nb === 0) return lerp(a, b, t);
  const cos = Math.max(-1, Math.min(1, dot / (na * nb)));
  const omega = Math.acos(cos);
  if (omega < 1e-6) return lerp(a, b, t); // (anti)parallel within rounding: the arc is a line
  const sin = Math.sin(omega);
  // Unit-direction slerp, then scale by the linearly interpolated norm.
  const wa = Math.sin((1 - t) * omega) / sin / na;
  const wb = Math.sin(t * omega) / sin / nb;
  const norm = na + t * (nb - na);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = norm * (wa * (a[i] as number) + wb * (b[i] as number));
  return out;
}

export function interpolate(method: InterpolationMethod, a: Float32Array, b: Float32Array, t: number): Float32Array {
  return method === 'slerp' ? slerp(a, b, t) : lerp(a, b, t);
}

/** Maps frame progress u in [0, 1] to interpolation t in [0, 1]: ease-in-out is the smooth cosine curve. */
export function ease(easing: Easing, u: number): number {
  switch (easing) {
    case 'linear':
      return u;
    case 'ease-in-out':
      return 0.5 - 0.5 * Math.cos(Math.PI * u);
    case 'ease-in':
      return 1 - Math.cos((Math.PI / 2) * u);
    case 'ease-out':
      return Math.sin((Math.PI / 2) * u);
  }
}

/** The t of each of `frames` frames from 0 to 1 (both ends included), through `easing`. */
export function frameTimes(frames: number, easing: Easing): number[] {
  if (!Number.isInteger(frames) || frames < 2) throw new InputError(`frames ${frames} must be an integer >= 2`);
  return Array.from({ length: frames }, (_, i) => ease(easing, i / (frames - 1)));
}

export function checkEasing(value: string): Easing {
  if (!(EASINGS as readonly string[]).includes(value)) throw new InputError(`easing "${value}" is not one of ${EASINGS.join(', ')}`);
  return value as Easing;
}

/** Σ weights[i] · vectors[i]; weights are normalised to sum 1 (a weighted mean). */
export function weightedMean(vectors: readonly Float32Array[], weights: readonly number[]): Float32Array {
  if (vectors.length === 0 || vectors.length !== weights.length) throw new InputError(`weighted mean: ${vectors.length} vectors and ${weights.length} weights`);
  const total = weights.reduce((s, w) => s + w, 0);
  if (!(Math.abs(total) > 1e-12)) throw new InputError(`weights ${weights.join(', ')} sum to 0`);
  const out = new Float32Array((vectors[0] as Float32Array).length);
  vectors.forEach((v, k) => {
    sameLength(out, v);
    const w = (weights[k] as number) / total;
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + w * (v[i] as number);
  });
  return out;
}

/** Uniform crossover: each coordinate comes from a parent chosen by `rng` (parents equally likely). */
export function crossover(parents: readonly Float32Array[], rng: Rng): Float32Array {
  if (parents.length < 2) throw new InputError(`crossover needs at least 2 parents, got ${parents.length}`);
  const out = new Float32Array((parents[0] as Float32Array).length);
  for (const p of parents) sameLength(out, p);
  for (let i = 0; i < out.length; i++) out[i] = (parents[rng.int(parents.length)] as Float32Array)[i] as number;
  return out;
}

/** Mutation: each coordinate, with probability `rate`, gets Gaussian noise of std `scale[i]` added. */
export function mutate(v: Float32Array, rate: number, scale: ArrayLike<number>, rng: Rng): Float32Array {
  if (!(rate >= 0 && rate <= 1)) throw new InputError(`mutation rate ${rate} must be in [0, 1]`);
  const out = Float32Array.from(v);
  for (let i = 0; i < out.length; i++) {
    const hit = rng.uniform() < rate;
    const noise = rng.gaussian(); // drawn for every coordinate, so the stream does not depend on the rate
    if (hit) out[i] = (out[i] as number) + noise * (scale[i] as number);
  }
  return out;
}

export function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

function sameLength(a: Float32Array, b: Float32Array): void {
  if (a.length !== b.length) throw new InputError(`latents differ in size: ${a.length} and ${b.length}`);
}
