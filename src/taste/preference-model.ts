/**
 * A personal taste model: Bradley–Terry on image embeddings, P(a preferred to b) = σ(w · (e_a − e_b)),
 * with an L2 penalty. It is trained with gesso's engine — the loss is a graph, autodiff builds the Adam
 * training step, ONNX Runtime runs it (src/train's TrainSession) — and keeps its session, so new
 * judgements continue training from where it stood. Scoring an image is the dot product w · e.
 *
 * "Why": the influence of each past judgement on an image's score (influence functions, Koh & Liang
 * 2017, "Understanding Black-box Predictions via Influence Functions"): removing judgement j moves w by
 * about (1/n) H⁻¹ ∇ℓ_j, so the score w · e would drop by (1 − p_j) (d_j · H⁻¹ e) / n, where
 * d_j = e_winner − e_loser, p_j = σ(w · d_j) and H is the Hessian of the training loss.
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
  /** (1 − p_j) / n ≥ 0: how much the model still leans on this judgement (large when it was hard to fit). */
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
   * Which past judgements drove an embedding's score: the k with the largest influence on it (see the
   * file comment), each the estimated drop in the score were that judgement removed.
   */
  explain(embedding: Float32Array, k = 5): { score: number; influences: Influence[] } {
    const n = this.judgements.length;
    const dim = this.dim;
    const rows = this.judgements.map((j) => {
      const [win, lose] = j.winner === 'a' ? [j.a, j.b] : [j.b, j.a];
      const d = new Float64Array(dim); // e_winner − e_loser
      for (let q = 0; q < dim; q++) d[q] = (win[q] as number) - (lose[q] as number);
      let margin = 0;
      for (let q = 0; q < dim; q++) margin += (this.weights[q] as number) * (d[q] as number);
      return { d, p: 1 / (1 + Math.exp(-margin)) };
    });
    // H = (1/n) Σ p(1 − p) d dᵀ + 2λI: the Hessian of the training loss (D, D).
    const h = new Float64Array(dim * dim);
    for (const r of rows) {
      const c = (r.p * (1 - r.p)) / n;
      for (let a = 0; a < dim; a++) for (let b = 0; b <= a; b++) h[a * dim + b]! += c * (r.d[a] as number) * (r.d[b] as number);
    }
    for (let a = 0; a < dim; a++) {
      h[a * dim + a]! += 2 * this.options.l2;
      for (let b = 0; b < a; b++) h[b * dim + a] = h[a * dim + b] as number;
    }
    const u = solveSpd(h, Float64Array.from(embedding), dim); // H⁻¹ e
    const all: Influence[] = rows.map((r, index) => {
      let alignment = 0;
      let reach = 0;
      for (let q = 0; q < dim; q++) {
        alignment += (r.d[q] as number) * (embedding[q] as number);
        reach += (r.d[q] as number) * (u[q] as number);
      }
      const weight = (1 - r.p) / n;
      return { judgement: index, contribution: weight * reach, weight, alignment };
    });
    const influences = all.sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution)).slice(0, k);
    return { score: this.score(embedding), influences };
  }

  /** The current weights (one per embedding feature): what the model has learnt the user likes. */
  get w(): Float32Array {
    return this.weights;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Solves A x = b for a symmetric positive definite A (row-major, n × n) by Cholesky. */
function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j] as number;
      for (let k = 0; k < j; k++) sum -= (l[i * n + k] as number) * (l[j * n + k] as number);
      l[i * n + j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / (l[j * n + j] as number);
    }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= (l[i * n + k] as number) * (y[k] as number);
    y[i] = sum / (l[i * n + i] as number);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i] as number;
    for (let k = i + 1; k < n; k++) sum -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = sum / (l[i * n + i] as number);
  }
  return x;
}
