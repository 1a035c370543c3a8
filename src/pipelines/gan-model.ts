/**
 * A trained GAN generator at inference: the mapping (z -> w) and synthesis (w -> image) ONNX models
 * of a model folder written by `gesso train gan` (or built in memory during training), plus gan.json:
 * the architecture, the average w (truncation centre) and the "genes" (principal directions of w).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import type { GanConfig } from '../models/gan.ts';
import type { GeneratorModels } from '../models/gan-export.ts';
import { symmetricEigen } from '../core/symmetric-eigen.ts';
import { Session } from '../runtime/session.ts';

export const GAN_MODEL_FORMAT = 'gesso-gan-v1';

/** A named direction in w space (a principal component), with the spread of w along it. */
export interface Gene {
  name: string;
  /** (wDim), unit length */
  direction: number[];
  /** Standard deviation of w along the direction over random z: a step of 1 gene = 1 std. */
  std: number;
}

export interface GanModelInfo {
  format: typeof GAN_MODEL_FORMAT;
  config: GanConfig;
  /** Mean w over random z: the centre of truncation. */
  wAvg: number[];
  genes: Gene[];
  /** Free-form facts about the training run (for the model card). */
  training?: Record<string, unknown>;
}

export class GanModel {
  private constructor(
    readonly info: GanModelInfo,
    private readonly mapping: Session,
    private readonly synthesis: Session,
    /** A label for lineage records: the model folder or "in-memory". */
    readonly source: string,
  ) {}

  get config(): GanConfig {
    return this.info.config;
  }

  static async load(dir: string, options: { threads?: number } = {}): Promise<GanModel> {
    const infoPath = join(dir, 'gan.json');
    if (!existsSync(infoPath)) throw new InputError(`${dir} is not a gesso GAN model folder: ${infoPath} is missing (train one with \`gesso train gan\`)`);
    const info = JSON.parse(readFileSync(infoPath, 'utf8')) as GanModelInfo;
    if (info.format !== GAN_MODEL_FORMAT) throw new InputError(`${infoPath}: format "${String(info.format)}", expected "${GAN_MODEL_FORMAT}"`);
    const opts = { ...(options.threads ? { intraOpThreads: options.threads } : {}) };
    const mapping = await Session.create(join(dir, 'mapping.onnx'), opts);
    const synthesis = await Session.create(join(dir, 'synthesis.onnx'), opts);
    return new GanModel(info, mapping, synthesis, resolve(dir));
  }

  /** From freshly exported models (training samples; w statistics are computed here). */
  static async fromModels(config: GanConfig, models: GeneratorModels, options: { threads?: number; statsSamples?: number } = {}): Promise<GanModel> {
    const opts = { ...(options.threads ? { intraOpThreads: options.threads } : {}) };
    const mapping = await Session.create(models.mapping.bytes, opts);
    const synthesis = await Session.create(models.synthesis.bytes, opts);
    const model = new GanModel({ format: GAN_MODEL_FORMAT, config, wAvg: new Array<number>(config.wDim).fill(0), genes: [] }, mapping, synthesis, 'in-memory');
    if (options.statsSamples) {
      const stats = await model.wStatistics(options.statsSamples);
      model.info.wAvg = stats.wAvg;
      model.info.genes = stats.genes;
    }
    return model;
  }

  /** z (n, zDim) -> w (n, wDim), one row per run (see synthesize). */
  async map(z: Float32Array): Promise<Float32Array> {
    const { zDim, wDim } = this.config;
    const n = this.count(z, zDim, 'z');
    const out = new Float32Array(n * wDim);
    for (let i = 0; i < n; i++) {
      const res = await this.mapping.run({ z: { dtype: 'float32', dims: [1, zDim], data: z.slice(i * zDim, (i + 1) * zDim) } });
      out.set(res['w']?.data as Float32Array, i * wDim);
    }
    return out;
  }

  /**
   * w (n, wDim) -> images (n, 3, S, S) in [-1, 1]. One image per run: ONNX Runtime's kernels may sum in
   * another order for another batch size (a GEMV for one row, a GEMM for several), and an image must
   * not change by a bit with the company it is rendered in (regeneration from a PNG's lineage is exact).
   */
  async synthesize(w: Float32Array): Promise<Float32Array> {
    const { wDim, size } = this.config;
    const n = this.count(w, wDim, 'w');
    const item = 3 * size * size;
    const out = new Float32Array(n * item);
    for (let i = 0; i < n; i++) {
      const res = await this.synthesis.run({ w: { dtype: 'float32', dims: [1, wDim], data: w.slice(i * wDim, (i + 1) * wDim) } });
      out.set(res['image']?.data as Float32Array, i * item);
    }
    return out;
  }

  /** Mean w and the principal directions of w (all of them by default: an orthonormal basis, which breeding needs) over `samples` random z (GANSpace, Härkönen et al. 2020). */
  async wStatistics(samples: number, geneCount = this.config.wDim, seed = 12345): Promise<{ wAvg: number[]; genes: Gene[] }> {
    const { zDim, wDim } = this.config;
    const w = await this.map(new Rng(seed).normal(samples * zDim));
    const mean = new Float64Array(wDim);
    for (let i = 0; i < samples; i++) for (let k = 0; k < wDim; k++) mean[k] = (mean[k] as number) + (w[i * wDim + k] as number) / samples;
    const cov = new Float64Array(wDim * wDim);
    for (let i = 0; i < samples; i++) {
      for (let a = 0; a < wDim; a++) {
        const da = (w[i * wDim + a] as number) - (mean[a] as number);
        for (let b = 0; b < wDim; b++)
          cov[a * wDim + b] = (cov[a * wDim + b] as number) + (da * ((w[i * wDim + b] as number) - (mean[b] as number))) / (samples - 1);
      }
    }
    const { values, vectors } = symmetricEigen(cov, wDim);
    const order = [...values.keys()].sort((a, b) => (values[b] as number) - (values[a] as number));
    const genes = order.slice(0, geneCount).map((col, rank) => ({
      name: `pc${rank + 1}`,
      direction: Array.from({ length: wDim }, (_, r) => vectors[r * wDim + col] as number),
      std: Math.sqrt(Math.max(0, values[col] as number)),
    }));
    return { wAvg: Array.from(mean), genes };
  }

  async release(): Promise<void> {
    await this.mapping.release();
    await this.synthesis.release();
  }

  private count(data: Float32Array, dim: number, what: string): number {
    if (data.length === 0 || data.length % dim !== 0) throw new InputError(`${what}: ${data.length} values is not a whole number of ${dim}-d vectors`);
    return data.length / dim;
  }
}
