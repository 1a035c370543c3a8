/**
 * Training and running the evaluation's drawing classifier (classifier-net.ts) with gesso's engine: one
 * ONNX training-step graph (forward, softmax cross-entropy, backward, AdamW) run by ONNX Runtime.
 * Batches are class-balanced (a class uniformly, then one of its images), and augmented on the host
 * with horizontal flips and small shifts on a white background, so the many stars do not drown the few
 * fruit. Trained weights are kept in a safetensors file with the config in its metadata.
 */
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { buildTrainStep } from '../autodiff/train-step.ts';
import { exportOnnx } from '../graph/export.ts';
import { Graph, type Tensor } from '../graph/graph.ts';
import { exp, log, mul, neg, reduceMax, reduceMean, reduceSum, sub } from '../graph/ops/index.ts';
import { Session } from '../runtime/session.ts';
import { trainLoop } from '../train/loop.ts';
import { warmupCosine } from '../train/lr-schedule.ts';
import { TrainSession } from '../train/train-session.ts';
import { readSafetensors, toFloat32, writeSafetensors } from '../weights/safetensors.ts';
import { buildClassifierNet, type ClassifierNetConfig } from './classifier-net.ts';

/** Images as (N, 3, S, S) 0–255 bytes (the dataset loader's layout) with a class per image. */
export interface LabelledImages {
  pixels: Uint8Array;
  labels: readonly number[];
  size: number;
}

export interface ClassifierTraining {
  steps: number;
  batch: number;
  lr: number;
  weightDecay: number;
  /** Largest shift in pixels of the augmentation, each axis. */
  maxShift: number;
  seed: number;
}

export interface TrainedClassifier {
  config: ClassifierNetConfig;
  values: Map<string, Float32Array>;
}

export const CLASSIFIER_FORMAT = 'gesso-eval-classifier-v1';

/** Mean softmax cross-entropy of logits (B, K) against one-hot targets (B, K), log-sum-exp shifted by the max. */
export function softmaxCrossEntropy(logits: Tensor, onehot: Tensor): Tensor {
  const shifted = sub(logits, reduceMax(logits, [1], true)); // (B, K)
  const logZ = log(reduceSum(exp(shifted), [1], true)); // (B, 1)
  const logp = sub(shifted, logZ); // (B, K)
  return neg(reduceMean(reduceSum(mul(onehot, logp), [1]))); // ()
}

export async function trainClassifier(
  data: LabelledImages,
  config: ClassifierNetConfig,
  t: ClassifierTraining,
  options: { quiet?: boolean; onStep?: (step: number, loss: number) => void } = {},
): Promise<TrainedClassifier> {
  const { size } = data;
  const K = config.classes;
  const byClass = Array.from({ length: K }, (): number[] => []);
  data.labels.forEach((label, i) => {
    if (!Number.isInteger(label) || label < 0 || label >= K) throw new InputError(`training label ${label} at image ${i} is not a class in 0..${K - 1}`);
    (byClass[label] as number[]).push(i);
  });
  const empty = byClass.findIndex((c) => c.length === 0);
  if (empty >= 0) throw new InputError(`class ${empty} has no training images; every class needs at least one`);
  if (size !== config.size) throw new InputError(`training images are ${size} px but the classifier takes ${config.size} px`);

  const g = new Graph();
  const x = g.input('x', [t.batch, 3, size, size]);
  const y = g.input('y', [t.batch, K]);
  const { logits } = buildClassifierNet(g, new Rng(t.seed), config).forward(x);
  const loss = softmaxCrossEntropy(logits, y);
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adamw', weightDecay: t.weightDecay }, clipGradNorm: 5 });
  const session = await TrainSession.create(g, spec);
  const rng = new Rng(t.seed + 1);
  const plane = 3 * size * size;
  try {
    await trainLoop({
      session,
      steps: t.steps,
      lr: warmupCosine({ lr: t.lr, warmupSteps: Math.min(100, Math.floor(t.steps / 10)), totalSteps: t.steps }),
      quiet: options.quiet ?? true,
      label: 'classifier',
      batch: () => {
        const xs = new Float32Array(t.batch * plane); // (B, 3, S, S)
        const ys = new Float32Array(t.batch * K); // (B, K)
        for (let b = 0; b < t.batch; b++) {
          const label = rng.int(K);
          const members = byClass[label] as number[];
          const index = members[rng.int(members.length)];
          augmentInto(xs, b * plane, data.pixels, index * plane, size, rng, t.maxShift);
          ys[b * K + label] = 1;
        }
        return { x: { dtype: 'float32', dims: [t.batch, 3, size, size], data: xs }, y: { dtype: 'float32', dims: [t.batch, K], data: ys } };
      },
      ...(options.onStep ? { onStep: (r: { step: number; loss: number }) => options.onStep?.(r.step, r.loss) } : {}),
    });
    return { config, values: await session.values() };
  } finally {
    await session.release();
  }
}

/**
 * Copies one (3, S, S) byte image into `out` at `offset` as [-1, 1] floats, flipped left-right half the
 * time and shifted by up to `maxShift` pixels each way; uncovered pixels are white (the drawings' paper).
 */
export function augmentInto(out: Float32Array, offset: number, pixels: Uint8Array, from: number, size: number, rng: Rng, maxShift: number): void {
  const flip = rng.uniform() < 0.5;
  const dx = maxShift > 0 ? rng.int(2 * maxShift + 1) - maxShift : 0;
  const dy = maxShift > 0 ? rng.int(2 * maxShift + 1) - maxShift : 0;
  const n = size * size;
  for (let c = 0; c < 3; c++) {
    for (let yy = 0; yy < size; yy++) {
      const sy = yy - dy;
      for (let xx = 0; xx < size; xx++) {
        let sx = xx - dx;
        if (flip) sx = size - 1 - sx;
        const inside = sy >= 0 && sy < size && sx >= 0 && sx < size;
        const v = inside ? pixels[from + c * n + sy * size + sx] : 255;
        out[offset + c * n + yy * size + xx] = v / 127.5 - 1;
      }
    }
  }
}

/** A trained classifier loaded for inference: logits and features of (N, 3, S, S) images in [-1, 1]. */
export class ClassifierRunner {
  private constructor(
    readonly config: ClassifierNetConfig,
    private readonly session: Session,
    private readonly batch: number,
  ) {}

  static async create(trained: TrainedClassifier, batch = 32): Promise<ClassifierRunner> {
    const { config } = trained;
    const g = new Graph();
    const x = g.input('x', [batch, 3, config.size, config.size]);
    const { logits, features } = buildClassifierNet(g, new Rng(0), config).forward(x);
    g.setValues(trained.values, { complete: true });
    const session = await Session.create(exportOnnx(g, { outputs: { logits, features }, params: 'initializers' }).bytes);
    return new ClassifierRunner(config, session, batch);
  }

  get featureDim(): number {
    return this.config.widths[3];
  }

  /** Logits (N, K) and features (N, F) of `count` images (N, 3, S, S) in [-1, 1]. */
  async run(images: Float32Array, count: number): Promise<{ logits: Float32Array; features: Float32Array }> {
    const { size, classes } = this.config;
    const plane = 3 * size * size;
    if (images.length !== count * plane)
      throw new InputError(`classifier input: ${count} images of 3x${size}x${size} need ${count * plane} values, got ${images.length}`);
    const F = this.featureDim;
    const logits = new Float32Array(count * classes);
    const features = new Float32Array(count * F);
    for (let from = 0; from < count; from += this.batch) {
      const n = Math.min(this.batch, count - from);
      const chunk = new Float32Array(this.batch * plane); // padded with zeros past n
      chunk.set(images.subarray(from * plane, (from + n) * plane));
      const out = await this.session.run({ x: { dtype: 'float32', dims: [this.batch, 3, size, size], data: chunk } });
      logits.set((out['logits']!.data as Float32Array).subarray(0, n * classes), from * classes);
      features.set((out['features']!.data as Float32Array).subarray(0, n * F), from * F);
    }
    return { logits, features };
  }

  /** The most likely class of each image. */
  static predictions(logits: Float32Array, classes: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < logits.length / classes; i++) {
      let best = 0;
      for (let k = 1; k < classes; k++) if (logits[i * classes + k] > logits[i * classes + best]) best = k;
      out.push(best);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Writes the classifier atomically, its config and any extra facts in the metadata. */
export function saveClassifier(path: string, trained: TrainedClassifier, extra: Record<string, string> = {}): void {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, data] of trained.values) tensors[name] = { dtype: 'F32', shape: [data.length], data };
  writeSafetensors(path, tensors, { ...extra, format: CLASSIFIER_FORMAT, config: JSON.stringify(trained.config) });
}

export function loadClassifier(path: string): { trained: TrainedClassifier; metadata: Record<string, string> } {
  const file = readSafetensors(path, path);
  if (file.metadata['format'] !== CLASSIFIER_FORMAT)
    throw new InputError(`${path}: not a gesso evaluation classifier (format "${file.metadata['format'] ?? 'missing'}")`);
  const config = JSON.parse(file.metadata['config'] ?? 'null') as ClassifierNetConfig | null;
  if (!config || !Number.isInteger(config.classes) || !Number.isInteger(config.size) || !Array.isArray(config.widths))
    throw new InputError(`${path}: classifier config is missing or malformed`);
  const values = new Map<string, Float32Array>();
  for (const [name, t] of file.tensors) values.set(name, Float32Array.from(toFloat32(t)));
  return { trained: { config, values }, metadata: file.metadata };
}
