/**
 * Builders of latent-spec lists for the exploration modes: samples, walks through keyframes, 2-D grids,
 * moves along genes, breeding. Each returns one spec per output image, in output order.
 */
import { InputError } from '../core/errors.ts';
import type { LatentSpec } from './gan-explore.ts';
import { frameTimes, type Easing, type InterpolationMethod } from './latent-math.ts';

export const seedSpec = (seed: number): LatentSpec => ({ op: 'seed', seed });

export interface WalkOptions {
  /** Frames per segment between two keyframes, both ends counted (default 24). */
  frames?: number;
  method?: InterpolationMethod;
  space?: 'z' | 'w';
  easing?: Easing;
  /** Close the path back to the first keyframe, so an animation loops without a jump (default true). */
  loop?: boolean;
}

/**
 * A walk through keyframes: each segment k -> k+1 in `frames` frames (eased); the frame where two
 * segments meet appears once. With `loop`, a last segment returns to the start and the start frame is
 * not repeated at the end (the animation's wrap-around supplies it).
 */
export function walkSpecs(keys: readonly LatentSpec[], o: WalkOptions = {}): LatentSpec[] {
  if (keys.length < 2) throw new InputError(`a walk needs at least 2 keyframes, got ${keys.length}`);
  const frames = o.frames ?? 24;
  const method = o.method ?? 'slerp';
  const space = o.space ?? 'z';
  const times = frameTimes(frames, o.easing ?? 'ease-in-out');
  const path = (o.loop ?? true) ? [...keys, keys[0] as LatentSpec] : [...keys];
  const out: LatentSpec[] = [];
  for (let k = 0; k + 1 < path.length; k++) {
    const from = path[k] as LatentSpec;
    const to = path[k + 1] as LatentSpec;
    const ts = k === 0 ? times : times.slice(1); // the joint frame once
    for (const t of ts) out.push(t === 0 ? from : t === 1 ? to : { op: 'interpolate', from, to, t, method, space });
  }
  if (o.loop ?? true) out.pop(); // the last frame is the first one again
  return out;
}

/** An n×n grid spanned by four corner points (top-left, top-right, bottom-left, bottom-right), bilinear in w; row-major. */
export function cornerGridSpecs(corners: readonly LatentSpec[], n: number): LatentSpec[] {
  if (corners.length !== 4) throw new InputError(`a corner grid needs 4 corners, got ${corners.length}`);
  checkCount('grid side', n, 2, 32);
  const out: LatentSpec[] = [];
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const y = r / (n - 1);
      const x = c / (n - 1);
      const weights = [(1 - x) * (1 - y), x * (1 - y), (1 - x) * y, x * y];
      const corner = weights.indexOf(1);
      out.push(corner >= 0 ? (corners[corner] as LatentSpec) : { op: 'mix', parents: [...corners], weights });
    }
  }
  return out;
}

/** An n×n grid around `base` spanned by two genes, each from −range to +range standard deviations; row-major (rows: geneY). */
export function geneGridSpecs(base: LatentSpec, geneX: string, geneY: string, n: number, range: number): LatentSpec[] {
  checkCount('grid side', n, 2, 32);
  const out: LatentSpec[] = [];
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const ax = -range + (2 * range * c) / (n - 1);
      const ay = -range + (2 * range * r) / (n - 1);
      out.push({
        op: 'gene',
        base,
        moves: [
          { gene: geneX, amount: ax },
          { gene: geneY, amount: ay },
        ],
      });
    }
  }
  return out;
}

/** Frames along one gene from −range to +range standard deviations (a gene slider). */
export function geneWalkSpecs(base: LatentSpec, gene: string, frames: number, range: number): LatentSpec[] {
  checkCount('frames', frames, 2, 1000);
  return Array.from({ length: frames }, (_, i) => ({ op: 'gene' as const, base, moves: [{ gene, amount: -range + (2 * range * i) / (frames - 1) }] }));
}

/** `children` children of the parents; child i uses breeding seed `seed + i`. */
export function breedSpecs(parents: readonly LatentSpec[], children: number, seed: number, rate: number, scale = 1): LatentSpec[] {
  if (parents.length < 2) throw new InputError(`breeding needs at least 2 parents, got ${parents.length}`);
  checkCount('children', children, 1, 1000);
  if (!(rate >= 0 && rate <= 1)) throw new InputError(`mutation rate ${rate} must be in [0, 1]`);
  return Array.from({ length: children }, (_, i) => ({ op: 'breed' as const, parents: [...parents], seed: seed + i, rate, scale }));
}

function checkCount(what: string, n: number, min: number, max: number): void {
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(`${what} ${n} must be an integer in ${min}..${max}`);
}
