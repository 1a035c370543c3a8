// npm run eval:taste — the personal taste model on simulated users with known tastes.
// 1. A pool of images generated with the shipped model (prompts × seeds, 64 px), embedded by src/taste/features.
// 2. Per user: judgements on random pairs, split into train / held-out pairs; the Bradley–Terry model
//    (gesso's engine) vs chance and vs a popularity baseline (each image's win rate over every user's
//    training judgements) on the held-out pairs.
// 3. Steering: each round 8 candidates are drawn from the pool (prompts/seeds the model could make); the
//    steered policy shows the model's best, the random policy a random one; the user rates what is shown
//    and judges it against another candidate, and the model is updated. Mean rating over rounds.
// Last line: one JSON object.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.ts';
import { DiffusionModel } from '../src/pipelines/model-folder.ts';
import { generate } from '../src/pipelines/generate.ts';
import { SHIPPED_MODELS_FOLDER } from '../src/server/models.ts';
import { FEATURE_NAMES, imageFeatures, type PixelImage, standardiser } from '../src/taste/features.ts';
import { type Judgement, PreferenceModel } from '../src/taste/preference-model.ts';
import { SIMULATED_USERS, simulatedChoice, simulatedRating } from '../src/taste/simulated-users.ts';

const quick = process.argv.includes('--quick');
const PROMPTS = ['a red star', 'a blue flower', 'an orange sun', 'a green tree', 'a purple cat', 'a yellow house', 'a black bird', 'a pink heart'];
const PER_PROMPT = quick ? 6 : 12;
const cacheDir = join(import.meta.dirname, '../.cache');
const cacheFile = join(cacheDir, `taste-pool-${PROMPTS.length}x${PER_PROMPT}.json`);

async function pool(): Promise<PixelImage[]> {
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { width: number; height: number; data: number[] }[];
    return cached.map((c) => ({ width: c.width, height: c.height, data: Float32Array.from(c.data) }));
  } catch {
    // not cached yet
  }
  const model = await DiffusionModel.load(join(SHIPPED_MODELS_FOLDER, 'gesso-clipart-v1'));
  const images: PixelImage[] = [];
  for (const [i, prompt] of PROMPTS.entries()) {
    const result = await generate(model, { prompt, seed: 1000 + i * 100, steps: 10, batchSize: PER_PROMPT, upscale: false });
    for (const im of result.images) images.push({ data: im.pixels, width: im.width, height: im.height });
    console.error(`pool: ${images.length}/${PROMPTS.length * PER_PROMPT} images`);
  }
  await model.release();
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(
    cacheFile,
    JSON.stringify(images.map((im) => ({ width: im.width, height: im.height, data: Array.from(im.data, (v) => Math.round(v * 255) / 255) }))),
  );
  return images;
}

const images = await pool();
const raw = images.map(imageFeatures);
const embed = standardiser(raw);
const emb = raw.map(embed);
// Ablation: the embedding without the three statistics the simulated users' utilities are built from
// (warmth, ink, edges), so the model must find the taste in histograms and the thumbnail.
const HIDDEN = new Set(['warmth', 'ink', 'edges']);
const keep = FEATURE_NAMES.map((n, i) => (HIDDEN.has(n) ? -1 : i)).filter((i) => i >= 0);
const embAblated = emb.map((e) => Float32Array.from(keep, (i) => e[i]!));
const rng = new Rng(7);
const TRAIN = quick ? 120 : 300;
const TEST = 500;
const ROUNDS = quick ? 20 : 40;

const pairs = (n: number) =>
  Array.from({ length: n }, () => {
    const a = rng.int(images.length);
    let b = rng.int(images.length - 1);
    if (b >= a) b++;
    return [a, b] as const;
  });

type Labelled = { a: number; b: number; winner: 'a' | 'b' };
const perUser = SIMULATED_USERS.map((user) => {
  const u = images.map((im) => user.utility(im));
  const mean = u.reduce((s, v) => s + v, 0) / u.length;
  const scale = Math.sqrt(u.reduce((s, v) => s + (v - mean) ** 2, 0) / u.length) || 1;
  const judge = ([a, b]: readonly [number, number]): Labelled => ({ a, b, winner: simulatedChoice(u[a]!, u[b]!, scale, rng) });
  return { user, u, scale, train: pairs(TRAIN).map(judge), test: pairs(TEST).map(judge) };
});

// Popularity: each image's win rate over every user's training judgements (Laplace-smoothed).
const wins = new Float64Array(images.length);
const seen = new Float64Array(images.length);
for (const { train } of perUser)
  for (const j of train) {
    seen[j.a]++;
    seen[j.b]++;
    wins[j.winner === 'a' ? j.a : j.b]++;
  }
const popularity = (i: number) => (wins[i]! + 1) / (seen[i]! + 2);
const accuracy = (test: Labelled[], score: (i: number) => number) =>
  test.reduce((s, j) => s + (score(j.a) === score(j.b) ? 0.5 : score(j.a) > score(j.b) === (j.winner === 'a') ? 1 : 0), 0) / test.length;
const toJudgement = (j: Labelled): Judgement => ({ a: emb[j.a]!, b: emb[j.b]!, winner: j.winner });

const results: Record<string, unknown>[] = [];
for (const { user, u, scale, train, test } of perUser) {
  const model = await PreferenceModel.create(emb[0]!.length, { seed: 1 });
  await model.update(train.map(toJudgement), 300);
  const modelAcc = accuracy(test, (i) => model.score(emb[i]!));
  const popAcc = accuracy(test, popularity);
  const ablated = await PreferenceModel.create(keep.length, { seed: 1 });
  await ablated.update(
    train.map((j) => ({ a: embAblated[j.a]!, b: embAblated[j.b]!, winner: j.winner })),
    300,
  );
  const ablatedAcc = accuracy(test, (i) => ablated.score(embAblated[i]!));
  await ablated.release();
  const oracleAcc = accuracy(test, (i) => u[i]!); // the best any model can do against noisy choices
  await model.release();

  // Steering, starting from an empty model; both policies see the same candidate sets.
  const steer = await PreferenceModel.create(emb[0]!.length, { seed: 2 });
  const steerRng = new Rng(11);
  let steered = 0;
  let random = 0;
  const firstHalf = [0, 0];
  for (let round = 0; round < ROUNDS; round++) {
    const candidates = Array.from({ length: 8 }, () => steerRng.int(images.length));
    const best =
      candidates[
        steer.count === 0
          ? 0
          : steer.rank(
              candidates.map((i) => emb[i]!),
              1,
            )[0]!
      ]!;
    const rand = candidates[steerRng.int(candidates.length)]!;
    const rating = simulatedRating(u[best]!, u);
    steered += rating;
    random += simulatedRating(u[rand]!, u);
    if (round < ROUNDS / 2) firstHalf[0] += rating;
    else firstHalf[1] += rating;
    // The user judges the shown image against another candidate; the model learns from it.
    const other = candidates.find((i) => i !== best) ?? rand;
    await steer.update([{ a: emb[best]!, b: emb[other]!, winner: simulatedChoice(u[best]!, u[other]!, scale, steerRng) }], 20);
  }
  await steer.release();
  const r = {
    user: user.name,
    heldOutPairs: test.length,
    trainPairs: train.length,
    accuracy: {
      model: +modelAcc.toFixed(3),
      modelWithoutUtilityFeatures: +ablatedAcc.toFixed(3),
      popularity: +popAcc.toFixed(3),
      chance: 0.5,
      oracle: +oracleAcc.toFixed(3),
    },
    steering: {
      rounds: ROUNDS,
      meanRatingSteered: +(steered / ROUNDS).toFixed(2),
      meanRatingRandom: +(random / ROUNDS).toFixed(2),
      steeredFirstHalf: +(firstHalf[0]! / (ROUNDS / 2)).toFixed(2),
      steeredSecondHalf: +(firstHalf[1]! / (ROUNDS / 2)).toFixed(2),
    },
  };
  console.error(JSON.stringify(r));
  results.push(r);
}
console.log(JSON.stringify({ eval: 'taste', images: images.length, users: results }));
