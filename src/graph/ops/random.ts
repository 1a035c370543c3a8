/** Random ops. Their outputs carry no gradient (listed in autodiff's NO_GRADIENT). */
import { ShapeError } from '../../core/errors.ts';
import type { Tensor } from '../graph.ts';
import { formatShape } from '../types.ts';

/**
 * Uniform samples in [low, high) with the shape of `like` (ONNX RandomUniformLike, float32 out).
 * `seed` makes the stream reproducible: ONNX Runtime seeds the op's generator once per session, so a
 * fresh session with the same seed gives the same sequence of samples run after run, and each run
 * draws new ones. ONNX stores the seed as a float, so it must be an integer below 2^24 to survive.
 */
export function randomUniformLike(like: Tensor, options: { seed: number; low?: number; high?: number }): Tensor {
  const { seed, low = 0, high = 1 } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 24) throw new ShapeError(`RandomUniformLike: seed ${seed} must be an integer in 0..16777215`);
  if (!(high > low)) throw new ShapeError(`RandomUniformLike: high ${high} must be above low ${low} (like ${formatShape(like.shape)})`);
  const attrs = { dtype: { i: 1 }, low: { f: low }, high: { f: high }, seed: { f: seed } };
  return like.graph.addNode('RandomUniformLike', [like], attrs, [{ shape: like.shape, dtype: 'float32' }])[0] as Tensor;
}

/**
 * Standard normal samples with the shape of `like` (ONNX RandomNormalLike, float32 out). Without a seed,
 * ORT draws from a time-seeded generator: every run differs. Exporters that trace `torch.randn_like`
 * write exactly that; gesso's own graphs pass a seed.
 */
export function randomNormalLike(like: Tensor, options: { seed?: number } = {}): Tensor {
  const { seed } = options;
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 24)) {
    throw new ShapeError(`RandomNormalLike: seed ${seed} must be an integer in 0..16777215`);
  }
  const attrs = { dtype: { i: 1 }, mean: { f: 0 }, scale: { f: 1 }, ...(seed !== undefined ? { seed: { f: seed } } : {}) };
  return like.graph.addNode('RandomNormalLike', [like], attrs, [{ shape: like.shape, dtype: 'float32' }])[0] as Tensor;
}
