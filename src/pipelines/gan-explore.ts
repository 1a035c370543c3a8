/**
 * Exploring a trained GAN: every image is described by a *latent spec*, a small tree that says how its
 * w vector was made (seed -> z -> w, interpolation, weighted mix, moves along genes, breeding). The
 * spec goes into the PNG's gesso recipe, so any frame, grid cell or child can be made again exactly
 * from the PNG alone (`gesso explore regen IMAGE.png`), and bred again with other images.
 *
 * Spaces: z is the Gaussian input (slerp is the right path there); w = mapping(z) is where mixing,
 * truncation and the PCA "genes" live (GANSpace, Härkönen et al. 2020: principal components of w
 * sampled from random z are the main directions of variation).
 */
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import type { GanModel } from './gan-model.ts';
import { crossover, interpolate, mutate, weightedMean, type InterpolationMethod } from './latent-math.ts';

export type LatentSpec =
  /** z = new Rng(seed).normal(zDim) (the same rule as a diffusion seed's noise), w = mapping(z). */
  | { op: 'seed'; seed: number }
  /** A point between two specs; in z space both ends must be z-defined (seeds or z interpolations). */
  | { op: 'interpolate'; from: LatentSpec; to: LatentSpec; t: number; method: InterpolationMethod; space: 'z' | 'w' }
  /** Weighted mean of the parents' w (weights normalised to sum 1): blends and 2-D corner grids. */
  | { op: 'mix'; parents: LatentSpec[]; weights: number[] }
  /** w moved along genes: w + Σ amount · std(gene) · direction(gene). */
  | { op: 'gene'; base: LatentSpec; moves: { gene: string; amount: number }[] }
  /** Breeding in gene (PCA) coordinates: uniform crossover of the parents, then mutation of each gene with probability `rate` by N(0, std(gene)·scale). */
  | { op: 'breed'; parents: LatentSpec[]; seed: number; rate: number; scale: number };

export const EXPLORE_RECIPE_FORMAT = 'gesso.explore';
export const EXPLORE_RECIPE_VERSION = 1;

export interface ExploreRecipe {
  format: typeof EXPLORE_RECIPE_FORMAT;
  version: number;
  kind: 'gan';
  model: { dir: string; sha256: string };
  latent: LatentSpec;
  /** ψ: w' = w_avg + ψ (w − w_avg); 1 = no truncation. */
  truncation: number;
}

/** Resolves specs to w vectors, caching each seed's mapping. */
export class LatentResolver {
  private readonly seedW = new Map<number, Float32Array>();

  constructor(readonly model: GanModel) {}

  /** z of a spec, or null when the spec is not defined in z space (mixes, genes, breeding, w interpolation). */
  z(spec: LatentSpec): Float32Array | null {
    const { zDim } = this.model.config;
    if (spec.op === 'seed') return seedLatent(spec.seed, zDim);
    if (spec.op === 'interpolate' && spec.space === 'z') {
      const a = this.z(spec.from);
      const b = this.z(spec.to);
      if (!a || !b) throw new InputError('interpolation in z space needs both ends defined in z (seeds or z interpolations); use space "w"');
      return interpolate(spec.method, a, b, spec.t);
    }
    return null;
  }

  async w(spec: LatentSpec): Promise<Float32Array> {
    checkSpec(spec);
    switch (spec.op) {
      case 'seed': {
        const cached = this.seedW.get(spec.seed);
        if (cached) return cached;
        const w = await this.model.map(seedLatent(spec.seed, this.model.config.zDim));
        this.seedW.set(spec.seed, w);
        return w;
      }
      case 'interpolate':
        if (spec.space === 'z') return this.model.map(this.z(spec) as Float32Array);
        return interpolate(spec.method, await this.w(spec.from), await this.w(spec.to), spec.t);
      case 'mix':
        return weightedMean(await Promise.all(spec.parents.map((p) => this.w(p))), spec.weights);
      case 'gene': {
        const w = Float32Array.from(await this.w(spec.base));
        for (const move of spec.moves) {
          const gene = this.gene(move.gene);
          for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) + move.amount * gene.std * (gene.direction[i] as number);
        }
        return w;
      }
      case 'breed': {
        const genes = this.model.info.genes;
        if (genes.length !== this.model.config.wDim)
          throw new InputError(`breeding needs the full PCA basis (${this.model.config.wDim} genes); this model has ${genes.length}`);
        const coords = await Promise.all(spec.parents.map(async (p) => this.toGenes(await this.w(p))));
        const rng = new Rng(spec.seed);
        const child = mutate(
          crossover(coords, rng),
          spec.rate,
          genes.map((g) => g.std * spec.scale),
          rng,
        );
        return this.fromGenes(child);
      }
    }
  }

  /** w after truncation ψ. */
  async truncated(spec: LatentSpec, psi: number): Promise<Float32Array> {
    const w = await this.w(spec);
    if (psi === 1) return w;
    const avg = this.model.info.wAvg;
    return w.map((v, i) => (avg[i] as number) + psi * (v - (avg[i] as number)));
  }

  private gene(name: string): { direction: number[]; std: number } {
    const gene = this.model.info.genes.find((g) => g.name === name);
    if (!gene)
      throw new InputError(
        `gene "${name}" is not in this model (it has ${this.model.info.genes
          .slice(0, 4)
          .map((g) => g.name)
          .join(', ')}, ...)`,
      );
    return gene;
  }

  /** Coordinates of w − w_avg along every gene (the genes form an orthonormal basis of w space). */
  private toGenes(w: Float32Array): Float32Array {
    const { genes, wAvg } = this.model.info;
    return Float32Array.from(genes, (g) => g.direction.reduce((s, d, i) => s + d * ((w[i] as number) - (wAvg[i] as number)), 0));
  }

  private fromGenes(c: Float32Array): Float32Array {
    const { genes, wAvg } = this.model.info;
    const w = Float32Array.from(wAvg);
    genes.forEach((g, k) => {
      for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) + (c[k] as number) * (g.direction[i] as number);
    });
    return w;
  }
}

/** The z of a seed: gesso's Rng normals, as a diffusion seed's initial noise. */
export function seedLatent(seed: number, zDim: number): Float32Array {
  return new Rng(seed).normal(zDim);
}

/** Renders specs to images (n, 3, S, S) in [-1, 1], one synthesis batch per 64 specs. */
export async function renderSpecs(resolver: LatentResolver, specs: readonly LatentSpec[], truncation = 1): Promise<Float32Array> {
  checkTruncation(truncation);
  const wDim = resolver.model.config.wDim;
  const ws = new Float32Array(specs.length * wDim);
  for (let i = 0; i < specs.length; i++) ws.set(await resolver.truncated(specs[i] as LatentSpec, truncation), i * wDim);
  return resolver.model.synthesize(ws);
}

export function checkTruncation(psi: number): void {
  if (!(Number.isFinite(psi) && psi >= 0 && psi <= 2)) throw new InputError(`truncation ${psi} must be a number in [0, 2] (1 = none, 0.7 is typical)`);
}

/** Checks a spec read from a file (a PNG recipe) and throws naming the bad field. */
export function checkSpec(value: unknown, where = 'latent'): asserts value is LatentSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(`${where} is not an object`);
  const v = value as Record<string, unknown>;
  const num = (key: string): void => {
    if (typeof v[key] !== 'number' || !Number.isFinite(v[key])) throw new InputError(`${where}.${key} is not a number`);
  };
  const list = (key: string): unknown[] => {
    const l = v[key];
    if (!Array.isArray(l) || l.length === 0) throw new InputError(`${where}.${key} is not a non-empty list`);
    return l;
  };
  switch (v['op']) {
    case 'seed':
      num('seed');
      if (!Number.isInteger(v['seed']) || (v['seed'] as number) < 0 || (v['seed'] as number) > 0xffffffff)
        throw new InputError(`${where}.seed ${String(v['seed'])} is not an integer in 0..4294967295`);
      return;
    case 'interpolate':
      num('t');
      if (v['method'] !== 'slerp' && v['method'] !== 'lerp') throw new InputError(`${where}.method is not "slerp" or "lerp"`);
      if (v['space'] !== 'z' && v['space'] !== 'w') throw new InputError(`${where}.space is not "z" or "w"`);
      checkSpec(v['from'], `${where}.from`);
      checkSpec(v['to'], `${where}.to`);
      return;
    case 'mix': {
      const parents = list('parents');
      const weights = list('weights');
      if (parents.length !== weights.length || !weights.every((w) => typeof w === 'number' && Number.isFinite(w)))
        throw new InputError(`${where}.weights must be ${parents.length} numbers`);
      parents.forEach((p, i) => {
        checkSpec(p, `${where}.parents[${i}]`);
      });
      return;
    }
    case 'gene':
      checkSpec(v['base'], `${where}.base`);
      list('moves').forEach((m, i) => {
        const move = m as Record<string, unknown>;
        if (typeof move['gene'] !== 'string' || typeof move['amount'] !== 'number')
          throw new InputError(`${where}.moves[${i}] needs a gene name and an amount`);
      });
      return;
    case 'breed':
      num('seed');
      num('rate');
      num('scale');
      list('parents').forEach((p, i) => {
        checkSpec(p, `${where}.parents[${i}]`);
      });
      if (!((v['rate'] as number) >= 0 && (v['rate'] as number) <= 1)) throw new InputError(`${where}.rate must be in [0, 1]`);
      return;
    default:
      throw new InputError(`${where}.op ${JSON.stringify(v['op'])} is not seed, interpolate, mix, gene or breed`);
  }
}
