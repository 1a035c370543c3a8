/**
 * Each user's taste model, kept by the server: a PreferenceModel (src/taste) per user, fed the user's
 * A/B comparisons and ratings as they arrive (only what it has not seen), and used to rank images
 * "best of N", to say why an image ranks where it does (which past choices drove its score), and to
 * suggest what to make next ("more like my taste"). Image embeddings are the fixed features of the
 * stored PNG, cached by content hash.
 */
import { decodeImageBytes } from '../image/read-info.ts';
import type { ImageRecord } from '../studio/library.ts';
import { FEATURE_NAMES, FEATURE_SIZE, imageFeatures } from '../taste/features.ts';
import { type Judgement, PreferenceModel } from '../taste/preference-model.ts';
import { type SettingsSuggestion, suggestSettings } from '../taste/suggest.ts';
import type { Studio } from './studio.ts';

/** Where a judgement came from: an A/B comparison, or two ratings (the higher-rated image won). */
export interface JudgementSource {
  kind: 'comparison' | 'ratings';
  winnerId: string;
  loserId: string;
  /** The comparison's id, or the two ratings. */
  comparisonId?: number;
  ratings?: [number, number];
}

interface UserTaste {
  model: PreferenceModel;
  sources: JudgementSource[];
  /** Highest comparison id already learnt from. */
  seen: number;
  /** Rating pairs already learnt from ("winnerId>loserId"). */
  ratingPairs: Set<string>;
  /** Updates of one user's model run one after another. */
  queue: Promise<unknown>;
}

/** Rated images paired with up to this many others of a different rating (nearest in time first). */
const RATING_PARTNERS = 4;

export interface Why {
  id: string;
  score: number;
  judgements: number;
  /** Each: the estimated drop in the score were that judgement removed (negative: it holds the score down). */
  influences: (JudgementSource & { contribution: number; alignment: number })[];
  /** The features pushing the score up or down most (weight × value). */
  features: { name: string; contribution: number }[];
}

export class TasteService {
  private readonly users = new Map<string, Promise<UserTaste>>();
  private readonly embeddings = new Map<string, Float32Array>();

  constructor(private readonly studio: Studio) {}

  private async embedding(userId: string, imageId: string): Promise<Float32Array> {
    const image = this.studio.library.require(userId, imageId, { includeDeleted: true });
    let e = this.embeddings.get(image.sha256);
    if (!e) {
      e = imageFeatures(await decodeImageBytes(await this.studio.library.store.get(image.sha256), imageId));
      this.embeddings.set(image.sha256, e);
    }
    return e;
  }

  private async taste(userId: string): Promise<UserTaste> {
    let entry = this.users.get(userId);
    if (!entry) {
      entry = PreferenceModel.create(FEATURE_SIZE, { seed: 1 }).then((model) => ({
        model,
        sources: [],
        seen: 0,
        ratingPairs: new Set<string>(),
        queue: Promise.resolve(),
      }));
      this.users.set(userId, entry);
    }
    const taste = await entry;
    const run = taste.queue.then(() => this.learn(userId, taste));
    taste.queue = run.catch(() => undefined);
    await run;
    return taste;
  }

  /** The user's model, trained on every comparison and rating recorded so far (ties carry no preference). */
  async model(userId: string): Promise<{ model: PreferenceModel; judgements: number }> {
    const { model } = await this.taste(userId);
    return { model, judgements: model.count };
  }

  private async learn(userId: string, taste: UserTaste): Promise<void> {
    const fresh: JudgementSource[] = [];
    const comparisons = this.studio.comparisons.list(userId).filter((c) => c.id > taste.seen && c.winner !== 'tie');
    for (const c of comparisons.reverse())
      fresh.push({ kind: 'comparison', comparisonId: c.id, winnerId: c.winner === 'a' ? c.aId : c.bId, loserId: c.winner === 'a' ? c.bId : c.aId });
    if (comparisons.length > 0) taste.seen = Math.max(...comparisons.map((c) => c.id));
    fresh.push(...this.ratingJudgements(userId, taste.ratingPairs));
    if (fresh.length === 0) return;
    const judgements: Judgement[] = [];
    for (const s of fresh) judgements.push({ a: await this.embedding(userId, s.winnerId), b: await this.embedding(userId, s.loserId), winner: 'a' });
    taste.sources.push(...fresh);
    await taste.model.update(judgements, 100);
  }

  /** New pairs of rated images with different ratings: the higher-rated one is preferred. */
  private ratingJudgements(userId: string, done: Set<string>): JudgementSource[] {
    const rated = this.studio.library.search(userId, { minRating: 1, limit: 500 }).images;
    const out: JudgementSource[] = [];
    for (const [i, im] of rated.entries()) {
      let partners = 0;
      for (let j = 1; j < rated.length && partners < RATING_PARTNERS; j++) {
        const other = rated[(i + j) % rated.length] as ImageRecord;
        if (other.rating === im.rating || other.rating === null || im.rating === null) continue;
        partners++;
        const [win, lose] = im.rating > other.rating ? [im, other] : [other, im];
        const key = `${win.id}>${lose.id}`;
        if (done.has(key)) continue;
        done.add(key);
        out.push({ kind: 'ratings', winnerId: win.id, loserId: lose.id, ratings: [win.rating as number, lose.rating as number] });
      }
    }
    return out;
  }

  /** The images ranked by the user's model, best first, with their scores. */
  async rank(userId: string, imageIds: string[], k = imageIds.length): Promise<{ ranked: { id: string; score: number }[]; judgements: number }> {
    const { model, judgements } = await this.model(userId);
    const scored = await Promise.all(imageIds.map(async (id) => ({ id, score: model.score(await this.embedding(userId, id)) })));
    return { ranked: scored.sort((a, b) => b.score - a.score).slice(0, k), judgements };
  }

  /** Why the image scores as it does: the past choices with the largest share of its score, and the features. */
  async why(userId: string, imageId: string, k = 5): Promise<Why> {
    const { model, sources } = await this.taste(userId);
    const e = await this.embedding(userId, imageId);
    const { score, influences } = model.explain(e, k);
    const features = FEATURE_NAMES.map((name, q) => ({ name, contribution: (model.w[q] as number) * (e[q] as number) }))
      .sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution))
      .slice(0, 5);
    return {
      id: imageId,
      score,
      judgements: model.count,
      influences: influences.map((i) => ({ ...(sources[i.judgement] as JudgementSource), contribution: i.contribution, alignment: i.alignment })),
      features,
    };
  }

  /** "More like my taste": settings to try next, from how the model scores what each setting made. */
  async suggest(userId: string, count = 3): Promise<{ suggestions: SettingsSuggestion[]; judgements: number }> {
    const { model } = await this.taste(userId);
    const images = this.studio.library.search(userId, { limit: 500 }).images.filter((im) => im.prompt !== '');
    const scored = await Promise.all(
      images.map(async (im) => ({
        id: im.id,
        prompt: im.prompt,
        cfgScale: im.cfgScale,
        seed: im.seed,
        score: model.score(await this.embedding(userId, im.id)),
      })),
    );
    return { suggestions: suggestSettings(scored, count), judgements: model.count };
  }

  async close(): Promise<void> {
    for (const entry of this.users.values()) await (await entry).model.release();
    this.users.clear();
  }
}
