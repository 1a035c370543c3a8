// npm run eval:taste — the personal taste model on simulated users with known tastes.
// 1. A pool of images generated with the shipped model (prompts × CFG scales × seeds, 64 px), embedded by
//    src/taste/features.
// 2. Per user: judgements on random pairs, split into train / held-out pairs; the Bradley–Terry model
//    (gesso's engine) vs chance and vs a popularity baseline (each image's win rate over every user's
//    training judgements) on the held-out pairs.
// 3. "Why": how much of each image's score the past judgements explain (the representer decomposition).
// 4. Steering over N rounds, three policies from the same start (a library of earlier makes and a few
//    judgements on them): each round a policy picks settings (prompt, CFG), "generates" a batch of 4 with
//    new seeds (drawn from the pool's images for those settings), shows one, the user rates it and judges
//    it against another of the batch, and that policy's model learns. random: random settings, random
//    image shown; best-of-batch: random settings, the model's best shown; steered: the settings
//    suggestSettings (src/taste/suggest.ts) picks from the model's scores of everything made so far, and
//    the model's best shown. Mean rating over rounds, averaged over repetitions.
// Last line: one JSON object.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.ts';
import { DiffusionModel } from '../src/pipelines/model-folder.ts';
import { generate } from '../src/pipelines/generate.ts';
import { SHIPPED_MODELS_FOLDER } from '../src/server/models.ts';
import { FEATURE_NAMES, imageFeatures, type PixelImage, standardiser } from '../src/taste/features.ts';
import { type Judgement, PreferenceModel } from '../src/taste/preference-model.ts';
import { SIMULATED_USERS, simulatedChoice, simulatedRating } from '../src/taste/simulated-users.ts';
import { suggestSettings } from '../src/taste/suggest.ts';

const quick = process.argv.includes('--quick');
const PROMPTS = ['a red star', 'a blue flower', 'an orange sun', 'a green tree', 'a purple cat', 'a yellow house', 'a black bird', 'a pink heart'];
const CFGS = [3, 9];
const PER_SETTING = quick ? 4 : 8;
const cacheDir = join(import.meta.dirname, '../.cache');
const cacheFile = join(cacheDir, `taste-pool-${PROMPTS.length}x${CFGS.length}x${PER_SETTING}.json`);

/** One pool image and the settings that made it. */
interface Made extends PixelImage {
  prompt: string;
  cfgScale: number;
  seed: number;
}

async function pool(): Promise<Made[]> {
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as (Omit<Made, 'data'> & { data: number[] })[];
    return cached.map((c) => ({ ...c, data: Float32Array.from(c.data) }));
  } catch {
    // not cached yet
  }
  const model = await DiffusionModel.load(join(SHIPPED_MODELS_FOLDER, 'gesso-clipart-v1'));
  const images: Made[] = [];
  for (const [i, prompt] of PROMPTS.entries())
    for (const cfgScale of CFGS) {
      const seed = 1000 + i * 100;
      const result = await generate(model, { prompt, cfgScale, seed, steps: 10, batchSize: PER_SETTING, upscale: false });
      for (const [k, im] of result.images.entries()) images.push({ data: im.pixels, width: im.width, height: im.height, prompt, cfgScale, seed: seed + k });
      console.error(`pool: ${images.length}/${PROMPTS.length * CFGS.length * PER_SETTING} images`);
    }
  await model.release();
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${cacheFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(images.map((im) => ({ ...im, data: Array.from(im.data, (v) => Math.round(v * 255) / 255) }))));
  renameSync(tmp, cacheFile);
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
const ROUNDS = quick ? 20 : 30;
const REPEATS = quick ? 2 : 5;
const BATCH = 4;
const WHY_IMAGES = quick ? 3 : 6;

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

const settingsKey = (i: number) => `${images[i]!.prompt}|${images[i]!.cfgScale}`;
const bySettings = new Map<string, number[]>();
for (let i = 0; i < images.length; i++) bySettings.set(settingsKey(i), [...(bySettings.get(settingsKey(i)) ?? []), i]);
const settingsList = [...bySettings.keys()];
type Policy = 'random' | 'bestOfBatch' | 'steered';

/** Retrains without the top-influence judgement and without a random one, for WHY_IMAGES images. */
async function whyCheck(judgements: Judgement[], rng: Rng): Promise<Record<string, number>> {
  // Large batches and more steps, so that retraining noise (other minibatches) stays below the effect measured.
  const fit = async (js: Judgement[]) => {
    const m = await PreferenceModel.create(emb[0]!.length, { seed: 1, batch: 256, lr: 0.02 });
    await m.update(js, 600);
    return m;
  };
  const full = await fit(judgements);
  let agree = 0;
  let topDrop = 0;
  let randomDrop = 0;
  let estimated = 0;
  for (let t = 0; t < WHY_IMAGES; t++) {
    const e = emb[rng.int(emb.length)]!;
    const top = full.explain(e, 1).influences[0]!;
    const drop = async (skip: number) => {
      const m = await fit(judgements.filter((_, i) => i !== skip));
      const d = full.score(e) - m.score(e);
      await m.release();
      return d;
    };
    const actual = await drop(top.judgement);
    const baseline = await drop(rng.int(judgements.length));
    if (Math.sign(actual) === Math.sign(top.contribution)) agree++;
    topDrop += Math.abs(actual);
    randomDrop += Math.abs(baseline);
    estimated += Math.abs(top.contribution);
  }
  await full.release();
  return {
    images: WHY_IMAGES,
    signAgreement: +(agree / WHY_IMAGES).toFixed(2),
    meanAbsChangeRemovingTop: +(topDrop / WHY_IMAGES).toFixed(4),
    meanAbsChangeRemovingRandom: +(randomDrop / WHY_IMAGES).toFixed(4),
    meanAbsEstimate: +(estimated / WHY_IMAGES).toFixed(4),
  };
}

/** Mean rating per policy over ROUNDS, averaged over REPEATS starts; all policies share each start. */
async function steer(u: number[], scale: number): Promise<Record<string, number>> {
  const totals: Record<Policy, number> = { random: 0, bestOfBatch: 0, steered: 0 };
  const halves = [0, 0];
  for (let rep = 0; rep < REPEATS; rep++) {
    const startRng = new Rng(100 + rep);
    const history = Array.from({ length: 12 }, () => startRng.int(images.length));
    const start = Array.from({ length: 8 }, () => {
      const a = history[startRng.int(history.length)]!;
      const b = history[startRng.int(history.length)]!;
      return { a, b, winner: simulatedChoice(u[a]!, u[b]!, scale, startRng) };
    }).filter((j) => j.a !== j.b);
    for (const policy of ['random', 'bestOfBatch', 'steered'] as Policy[]) {
      const rng = new Rng(1000 + rep); // the same draws for every policy where they coincide
      const model = await PreferenceModel.create(emb[0]!.length, { seed: 2 });
      await model.update(start.map(toJudgement), 50);
      const library = [...history];
      for (let round = 0; round < ROUNDS; round++) {
        let key = settingsList[rng.int(settingsList.length)]!;
        if (policy === 'steered') {
          const made = library.map((i) => ({ id: String(i), prompt: settingsKey(i), cfgScale: null, seed: images[i]!.seed, score: model.score(emb[i]!) }));
          key = suggestSettings(made, 1)[0]?.prompt ?? key;
        }
        const options = bySettings.get(key)!;
        const batch = Array.from({ length: BATCH }, () => options[rng.int(options.length)]!);
        const shown =
          policy === 'random'
            ? batch[rng.int(BATCH)]!
            : batch[
                model.rank(
                  batch.map((i) => emb[i]!),
                  1,
                )[0]!
              ]!;
        const rating = simulatedRating(u[shown]!, u);
        totals[policy] += rating;
        if (policy === 'steered') halves[round < ROUNDS / 2 ? 0 : 1] += rating;
        const other = batch.find((i) => i !== shown) ?? batch[0]!;
        if (other !== shown) await model.update([{ a: emb[shown]!, b: emb[other]!, winner: simulatedChoice(u[shown]!, u[other]!, scale, rng) }], 20);
        library.push(...batch);
      }
      await model.release();
    }
  }
  const per = ROUNDS * REPEATS;
  return {
    rounds: ROUNDS,
    repeats: REPEATS,
    meanRatingRandom: +(totals.random / per).toFixed(2),
    meanRatingBestOfBatch: +(totals.bestOfBatch / per).toFixed(2),
    meanRatingSteered: +(totals.steered / per).toFixed(2),
    steeredFirstHalf: +(halves[0]! / (per / 2)).toFixed(2),
    steeredSecondHalf: +(halves[1]! / (per / 2)).toFixed(2),
  };
}

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

  // "Why", checked by retraining: for a few images, remove the judgement the influence function names
  // as driving the score most, and (baseline) a random judgement; the actual score changes.
  const why = await whyCheck(train.map(toJudgement), rng);

  const steering = await steer(u, scale);
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
    why,
    steering,
  };
  console.error(JSON.stringify(r));
  results.push(r);
}
console.log(JSON.stringify({ eval: 'taste', images: images.length, users: results }));
