/**
 * Each user's taste model, kept by the server: a PreferenceModel (src/taste) per user, fed the user's
 * A/B comparisons as they arrive (only the ones it has not seen), and used to rank images "best of N".
 * Image embeddings are the fixed features of the stored PNG, cached by content hash.
 */
import { decodeImageBytes } from '../image/read-info.ts';
import { FEATURE_SIZE, imageFeatures } from '../taste/features.ts';
import { type Judgement, PreferenceModel } from '../taste/preference-model.ts';
import type { Studio } from './studio.ts';

interface UserTaste {
  model: PreferenceModel;
  /** Highest comparison id already learnt from. */
  seen: number;
  /** Updates of one user's model run one after another. */
  queue: Promise<unknown>;
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

  /** The user's model, trained on every comparison recorded so far (ties carry no preference). */
  async model(userId: string): Promise<{ model: PreferenceModel; judgements: number }> {
    let entry = this.users.get(userId);
    if (!entry) {
      entry = PreferenceModel.create(FEATURE_SIZE, { seed: 1 }).then((model) => ({ model, seen: 0, queue: Promise.resolve() }));
      this.users.set(userId, entry);
    }
    const taste = await entry;
    const run = taste.queue.then(() => this.learn(userId, taste));
    taste.queue = run.catch(() => undefined);
    await run;
    return { model: taste.model, judgements: taste.model.count };
  }

  private async learn(userId: string, taste: UserTaste): Promise<void> {
    const fresh = this.studio.comparisons.list(userId).filter((c) => c.id > taste.seen && c.winner !== 'tie');
    if (fresh.length > 0) {
      const judgements: Judgement[] = [];
      for (const c of fresh) judgements.push({ a: await this.embedding(userId, c.aId), b: await this.embedding(userId, c.bId), winner: c.winner as 'a' | 'b' });
      taste.seen = Math.max(...fresh.map((c) => c.id));
      await taste.model.update(judgements, 100);
    }
  }

  /** The images ranked by the user's model, best first, with their scores. */
  async rank(userId: string, imageIds: string[], k = imageIds.length): Promise<{ ranked: { id: string; score: number }[]; judgements: number }> {
    const { model, judgements } = await this.model(userId);
    const scored = await Promise.all(imageIds.map(async (id) => ({ id, score: model.score(await this.embedding(userId, id)) })));
    return { ranked: scored.sort((a, b) => b.score - a.score).slice(0, k), judgements };
  }

  async close(): Promise<void> {
    for (const entry of this.users.values()) await (await entry).model.release();
    this.users.clear();
  }
}
