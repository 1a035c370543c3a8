/**
 * Simulated users with known tastes, for measuring the taste model honestly: each has a utility
 * computed from the pixels (not from the embedding the model sees), chooses between two images by
 * Bradley–Terry with noise, and rates an image 1–5 by where its utility falls in the pool.
 */
import type { Rng } from '../core/rng.ts';
import { edgeDensity, inkCoverage, type PixelImage, warmth } from './features.ts';

export interface SimulatedUser {
  name: string;
  /** What the user likes, in words (for the docs). */
  definition: string;
  utility(im: PixelImage): number;
}

export const SIMULATED_USERS: SimulatedUser[] = [
  { name: 'warm', definition: 'prefers warm colours: utility = mean (red − blue) over the drawn (non-white) pixels', utility: warmth },
  { name: 'sparse', definition: 'prefers sparse compositions: utility = −(fraction of the canvas that is drawn on)', utility: (im) => -inkCoverage(im) },
  { name: 'busy-lines', definition: 'prefers busy line work: utility = mean absolute difference between neighbouring grey pixels', utility: edgeDensity },
];

/** A user's judgement of two images with utilities ua, ub: BT with temperature `noise` (in utility std units). */
export function simulatedChoice(ua: number, ub: number, scale: number, rng: Rng, noise = 0.25): 'a' | 'b' {
  const p = 1 / (1 + Math.exp(-(ua - ub) / (noise * scale)));
  return rng.uniform() < p ? 'a' : 'b';
}

/** Rating 1–5 by quintile of the utility among the pool's utilities. */
export function simulatedRating(u: number, pool: number[]): number {
  const below = pool.filter((v) => v < u).length;
  return Math.min(5, 1 + Math.floor((5 * below) / pool.length));
}
