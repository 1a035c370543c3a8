// The Bradley–Terry taste model trained with gesso's engine: it recovers a known preference direction
// from noisy judgements, ranks "best of N" by it, keeps learning as judgements arrive, and refuses
// embeddings of the wrong size. Also the fixed image features on hand-made images.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.ts';
import { FEATURE_NAMES, FEATURE_SIZE, imageFeatures, type PixelImage } from '../../src/taste/features.ts';
import { type Judgement, PreferenceModel } from '../../src/taste/preference-model.ts';

const DIM = 8;
const rng = new Rng(3);
const truth = Float32Array.from([2, -1, 0, 0, 0.5, 0, 0, 0]);
const utility = (e: Float32Array) => e.reduce((s, v, i) => s + v * (truth[i] as number), 0);
const point = () => rng.normal(DIM);
function judge(a: Float32Array, b: Float32Array): Judgement {
  const p = 1 / (1 + Math.exp(-(utility(a) - utility(b))));
  return { a, b, winner: rng.uniform() < p ? 'a' : 'b' };
}

test('learns a known preference from noisy judgements, ranks best of N, updates online', async () => {
  const model = await PreferenceModel.create(DIM, { seed: 1 });
  try {
    const test = Array.from({ length: 300 }, () => [point(), point()] as const);
    const accuracy = () => test.filter(([a, b]) => model.score(a) > model.score(b) === utility(a) > utility(b)).length / test.length;

    await model.update(
      Array.from({ length: 10 }, () => judge(point(), point())),
      30,
    );
    const early = accuracy();
    await model.update(
      Array.from({ length: 400 }, () => judge(point(), point())),
      200,
    );
    const late = accuracy();
    assert.ok(late > 0.9, `held-out agreement with the true preference ${late}`);
    assert.ok(late >= early, `more judgements should not hurt: ${early} -> ${late}`);
    assert.equal(model.count, 410);
    // The learnt direction points along the true one.
    const w = model.w;
    assert.ok((w[0] as number) > 0 && (w[1] as number) < 0 && (w[0] as number) > Math.abs(w[2] as number) * 3, `w = ${Array.from(w).map((v) => v.toFixed(2))}`);

    const candidates = Array.from({ length: 16 }, point);
    const best = model.rank(candidates, 4);
    assert.equal(best.length, 4);
    const byTruth = candidates.map((c, i) => ({ i, u: utility(c) })).sort((x, y) => y.u - x.u);
    assert.ok(
      byTruth.slice(0, 4).some((x) => x.i === best[0]),
      "the model's best of 16 is among the true top 4",
    );

    await assert.rejects(model.update([{ a: new Float32Array(3), b: new Float32Array(3), winner: 'a' }]), /3\/3 values; expected 8/);
  } finally {
    await model.release();
  }
});

test('image features: warm, sparse and busy images differ where they should', () => {
  const make = (fill: (x: number, y: number) => [number, number, number]): PixelImage => {
    const data = new Float32Array(32 * 32 * 3);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) data.set(fill(x, y), (y * 32 + x) * 3);
    return { data, width: 32, height: 32 };
  };
  const f = (im: PixelImage, name: string) => imageFeatures(im)[FEATURE_NAMES.indexOf(name)] as number;
  const red = make(() => [0.9, 0.1, 0.1]);
  const blue = make(() => [0.1, 0.1, 0.9]);
  const dot = make((x, y) => (Math.abs(x - 16) < 3 && Math.abs(y - 16) < 3 ? [0, 0, 0] : [1, 1, 1]));
  const stripes = make((x) => (x % 2 ? [0, 0, 0] : [1, 1, 1]));
  assert.equal(imageFeatures(red).length, FEATURE_SIZE);
  assert.ok(f(red, 'warmth') > 0.5 && f(blue, 'warmth') < -0.5);
  assert.ok(f(dot, 'ink') < 0.05 && f(red, 'ink') === 1);
  assert.ok(f(stripes, 'edges') > 0.4 && f(dot, 'edges') < 0.05);
});
