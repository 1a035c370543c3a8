/**
 * A personal taste model: Bradley–Terry on image embeddings, P(a preferred to b) = σ(w · (e_a − e_b)),
 * with an L2 penalty. It is trained with gesso's engine — the loss is a graph, autodiff builds the Adam
 * training step, ONNX Runtime runs it (src/train's TrainSession) — and keeps its session, so new
 * judgements continue training from where it stood. Scoring an image is the dot product w · e.
 *
 * "Why": at the optimum of mean NLL + λ‖w‖², the gradient is zero, so w = Σ_j α_j d_j with
 * d_j = e_winner − e_loser and α_j = (1 − σ(w · d_j)) / (2λn): the representer theorem, as used for
 * explanations by Yeh et al. 2018 ("Representer Point Selection for Explaining Deep Neural Networks").
 * An image's score is then Σ_j α_j (d_j · e): each past judgement's share of it, exactly at the optimum
 * (`explain` reports how close the sum comes to the score, since Adam stops near, not at, the optimum).
 */
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { buildTrainStep } from '../autodiff/train-step.ts';
import { Graph } from '../graph/graph.ts';
import { add, log, matmul, mul, reduceMean, reduceSum, sigmoid } from '../graph/ops/index.ts';
import { TrainSession } from '../train/train-session.ts';

export interface Judgement {
  /** Embeddings of the two images; `winner` says which the user preferred. */
  a: Float32Array;
  b: Float32Array;
  winner: 'a' | 'b';
}

/** One past judgement's share of an image's score (see `explain`). */
export interface Influence {
  /** Index of the judgement, in the order given to `update`. */
  judgement: number;
  contribution: number;
  /** α_j ≥ 0: how much the model still leans on this judgement (large when it was hard to fit). */
  weight: number;
  /** (e_winner − e_loser) · e: positive when the image lies on the winner's side. */
  alignment: number;
}

export interface PreferenceOptions {
  /** Judgements per training step (sampled with replacement). */
  batch?: number;
  /** L2 penalty on w. */
  l2?: number;
  lr?: number;
  seed?: number;
}

export class PreferenceModel {
  private readonly judgements: Judgement[] = [];
  private weights: Float32Array;
  private readonly rng: Rng;

  private constructor(
    readonly dim: number,
    private readonly session: TrainSession,
    private readonly options: Required<PreferenceOptions>,
  ) {
    this.weights = new Float32Array(dim);
    this.rng = new Rng(options.seed);
  }

  static async create(dim: number, options: PreferenceOptions = {}): Promise<PreferenceModel> {
    const o: Required<PreferenceOptions> = { batch: options.batch ?? 64, l2: options.l2 ?? 1e-3, lr: options.lr ?? 0.05, seed: options.seed ?? 0 };
    const g = new Graph();
    const d = g.input('d', [o.batch, dim]); // (B, D): e_winner − e_loser
    const w = g.param('w', [dim, 1], new Float32Array(dim));
    const p = sigmoid(matmul(d, w)); // (B, 1): P(winner preferred)
    const nll = reduceMean(mul(log(add(p, 1e-6)), -1));
    const loss = add(nll, mul(reduceSum(mul(w, w)), o.l2));
    const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adam' } });
    const session = await TrainSession.create(g, spec, { inProcess: true, threads: 1 });
    return new PreferenceModel(dim, session, o);
  }

  get count(): number {
    return this.judgements.length;
  }

  /** Adds judgements and trains `steps` Adam steps on minibatches of everything seen so far. */
  async update(judgements: Judgement[], steps = 50): Promise<number> {
    for (const j of judgements) {
      if (j.a.length !== this.dim || j.b.length !== this.dim)
        throw new InputError(`judgement embeddings have ${j.a.length}/${j.b.length} values; expected ${this.dim}`);
      this.judgements.push(j);
    }
    if (this.judgements.length === 0) return Number.NaN;
    const { batch } = this.options;
    let loss = Number.NaN;
    for (let s = 0; s < steps; s++) {
      const d = new Float32Array(batch * this.dim);
      for (let i = 0; i < batch; i++) {
        const j = this.judgements[this.rng.int(this.judgements.length)] as Judgement;
        const [win, lose] = j.winner === 'a' ? [j.a, j.b] : [j.b, j.a];
        for (let k = 0; k < this.dim; k++) d[i * this.dim + k] = (win[k] as number) - (lose[k] as number);
      }
      loss = (await this.session.step({ d: { dtype: 'float32', dims: [batch, this.dim], data: d } }, this.options.lr)).loss;
    }
    const values = await this.session.values();
    this.weights = Float32Array.from(values.get('w') ?? this.weights);
    return loss;
  }

  score(embedding: Float32Array): number {
    let s = 0;
    for (let k = 0; k < this.dim; k++) s += (this.weights[k] as number) * (embedding[k] as number);
    return s;
  }

  /** P(a preferred to b). */
  prefers(a: Float32Array, b: Float32Array): number {
    return 1 / (1 + Math.exp(-(this.score(a) - this.score(b))));
  }

  /** "Best of N": indices of the k highest-scoring candidates, best first. */
  rank(candidates: Float32Array[], k = candidates.length): number[] {
    return candidates
      .map((e, i) => ({ i, s: this.score(e) }))
      .sort((x, y) => y.s - x.s)
      .slice(0, k)
      .map((x) => x.i);
  }

  /**
   * Which past judgements drove an embedding's score: the k largest |α_j (d_j · e)|, and how much of
   * the score the judgements together explain (their sum; equal to the score at the optimum).
   */
  explain(embedding: Float32Array, k = 5): { score: number; explained: number; influences: Influence[] } {
    const n = this.judgements.length;
    const all: Influence[] = this.judgements.map((j, index) => {
      const [win, lose] = j.winner === 'a' ? [j.a, j.b] : [j.b, j.a];
      let margin = 0;
      let alignment = 0;
      for (let q = 0; q < this.dim; q++) {
        const d = (win[q] as number) - (lose[q] as number);
        margin += (this.weights[q] as number) * d;
        alignment += d * (embedding[q] as number);
      }
      const weight = (1 - 1 / (1 + Math.exp(-margin))) / (2 * this.options.l2 * n);
      return { judgement: index, contribution: weight * alignment, weight, alignment };
    });
    const explained = all.reduce((s, i) => s + i.contribution, 0);
    const influences = all.sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution)).slice(0, k);
    return { score: this.score(embedding), explained, influences };
  }

  /** The current weights (one per embedding feature): what the model has learnt the user likes. */
  get w(): Float32Array {
    return this.weights;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
