/**
 * A training session: the training-step model loaded once, with parameters and optimizer state held
 * by the runtime between steps (carried from `new.<name>` outputs to `<name>` inputs), so each step
 * moves only the batch in and the loss out. Checkpoints hold the whole state in safetensors.
 */
import { GessoError, InputError } from '../core/errors.ts';
import type { Graph } from '../graph/graph.ts';
import type { TrainStep } from '../autodiff/train-step.ts';
import { LR_INPUT, STEP_INPUT } from '../autodiff/train-step.ts';
import type { Runner, SessionOptions } from '../runtime/runner.ts';
import { checkNchwcBlock } from '../runtime/nchwc-probe.ts';
import { Session } from '../runtime/session.ts';
import { WorkerSession } from '../runtime/worker-session.ts';
import type { HostTensor } from '../runtime/tensor.ts';
import { readSafetensors, toFloat32, writeSafetensors } from '../weights/safetensors.ts';

export const CHECKPOINT_FORMAT = 'gesso-train-checkpoint-v1';
/** Largest step count a checkpoint may claim (a billion steps is years of training on one machine). */
export const MAX_CHECKPOINT_STEP = 1e9;

export interface StepResult {
  step: number;
  loss: number;
  gradNorm: number;
  metrics: Record<string, number>;
}

export class TrainSession {
  /** Number of optimizer steps taken (the next step is `stepCount + 1`). */
  stepCount = 0;
  private readonly inputNames: Set<string>;

  private constructor(
    readonly spec: TrainStep,
    private readonly runner: Runner,
    private readonly shapes: Map<string, readonly number[]>,
    /** Frozen parameters (non-trainable, never carried): fed once from the graph, never changed, left out of checkpoints. */
    private readonly frozen: ReadonlySet<string>,
  ) {
    this.inputNames = new Set(spec.model.inputs.map((i) => i.name));
  }

  /**
   * Loads the step model (in a worker thread unless `inProcess`) with the graph's initial parameters.
   *
   * Frozen parameters (a LoRA's base model: nearly all the memory) are not copied in-process: the session
   * reads the graph's own arrays, which it never writes (replace a frozen `param.value`, never write into
   * it, while the session lives). A worker needs its own copy; `moveFrozen` moves the graph's arrays there
   * instead, leaving the graph's frozen values empty (length 0): for callers that never read the frozen
   * weights from the graph again (fine-tuning saves only what it trains). Either way the process then holds
   * the base model once, not twice.
   */
  static async create(
    g: Graph,
    spec: TrainStep,
    options: { inProcess?: boolean; threads?: number; session?: SessionOptions; moveFrozen?: boolean } = {},
  ): Promise<TrainSession> {
    await checkNchwcBlock(spec.nchwcBlock, 'the training step');
    const sessionOptions: SessionOptions = { name: 'train step', ...(options.threads ? { intraOpThreads: options.threads } : {}), ...options.session };
    const runner = options.inProcess ? await Session.create(spec.model.bytes, sessionOptions) : await WorkerSession.create(spec.model.bytes, sessionOptions);
    const inputs = new Map(spec.model.inputs.map((i) => [i.name, i]));
    // Frozen: non-trainable parameters the step never changes. Buffers the step carries forward (a spectral
    // norm's power-iteration vector) are state like weights, and go into checkpoints.
    const carried = new Set(Object.values(spec.carry));
    const frozen = new Set([...g.params.values()].filter((p) => !p.trainable && inputs.has(p.name) && !carried.has(p.name)).map((p) => p.name));
    const shapes = new Map<string, readonly number[]>();
    const initial: Record<string, HostTensor> = {};
    const frozenValues: Record<string, HostTensor> = {};
    for (const input of spec.model.inputs) {
      const param = g.params.get(input.name);
      if (!param) continue;
      shapes.set(input.name, input.shape);
      if (frozen.has(input.name)) frozenValues[input.name] = { dtype: 'float32', dims: [...input.shape], data: param.value };
      else initial[input.name] = { dtype: 'float32', dims: [...input.shape], data: Float32Array.from(param.value) };
    }
    // In-process, `transfer` keeps the graph's arrays; for a worker it moves them (else they are copied).
    await runner.setState(frozenValues, { transfer: options.inProcess === true || options.moveFrozen === true });
    const flatParams = (): Float32Array => {
      const out = new Float32Array(spec.paramSizes.reduce((a, b) => a + b, 0));
      let offset = 0;
      for (const name of spec.params) {
        const v = g.params.get(name)?.value as Float32Array;
        out.set(v, offset);
        offset += v.length;
      }
      return out;
    };
    for (const name of spec.state) {
      const input = inputs.get(name);
      if (!input) continue;
      const size = input.shape.reduce((a, b) => a * b, 1);
      let start: Float32Array;
      if (spec.stateInit[name] === 'zeros') start = new Float32Array(size);
      else if (spec.layout === 'flat') start = flatParams();
      else start = Float32Array.from(g.params.get(name.slice(name.indexOf('.') + 1))?.value ?? new Float32Array(size));
      initial[name] = { dtype: 'float32', dims: [...input.shape], data: start };
      shapes.set(name, input.shape);
    }
    await runner.setState(initial, { transfer: true });
    return new TrainSession(spec, runner, shapes, frozen);
  }

  /** One optimizer step on a batch (feeds for `spec.batchInputs`) at learning rate `lr`. */
  async step(batch: Record<string, HostTensor>, lr: number): Promise<StepResult> {
    const step = this.stepCount + 1;
    const feeds: Record<string, HostTensor> = { ...batch };
    // SGD never reads the step number, so the exported model may not have that input.
    if (this.inputNames.has(STEP_INPUT)) feeds[STEP_INPUT] = { dtype: 'float32', dims: [], data: Float32Array.of(step) };
    if (this.inputNames.has(LR_INPUT)) feeds[LR_INPUT] = { dtype: 'float32', dims: [], data: Float32Array.of(lr) };
    const out = await this.runner.run(feeds, { fetch: this.spec.fetch, carry: this.spec.carry });
    this.stepCount = step;
    const scalar = (name: string): number => (out[name]?.data as Float32Array | undefined)?.[0] ?? Number.NaN;
    const metrics: Record<string, number> = {};
    for (const name of this.spec.fetch) if (name !== 'loss' && name !== 'grad_norm') metrics[name] = scalar(name);
    return { step, loss: scalar('loss'), gradNorm: scalar('grad_norm'), metrics };
  }

  /** Current values of parameters (or of any held state, by name). */
  async values(names: string[] = this.spec.params): Promise<Map<string, Float32Array>> {
    const state = await this.runner.getState(names);
    return new Map(Object.entries(state).map(([k, v]) => [k, v.data as Float32Array]));
  }

  /** The EMA weights by parameter name (the training step must have been built with emaDecay). */
  async emaValues(): Promise<Map<string, Float32Array>> {
    const { spec } = this;
    if (!spec.ema) throw new GessoError('this training step keeps no EMA of the weights (build it with emaDecay)');
    if (spec.layout === 'per-param') {
      const ema = await this.values(spec.params.map((p) => `ema.${p}`));
      return new Map(spec.params.map((p) => [p, ema.get(`ema.${p}`) as Float32Array]));
    }
    const flat = (await this.values([spec.ema])).get(spec.ema) as Float32Array;
    const out = new Map<string, Float32Array>();
    let offset = 0;
    spec.params.forEach((p, i) => {
      const n = spec.paramSizes[i];
      out.set(p, flat.slice(offset, offset + n));
      offset += n;
    });
    return out;
  }

  /** Writes trainable parameters, optimizer state and the step count (atomically: no half-written file). */
  async save(path: string, metadata: Record<string, string> = {}): Promise<void> {
    const state = await this.runner.getState(this.frozen.size > 0 ? [...this.shapes.keys()].filter((n) => !this.frozen.has(n)) : undefined);
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const [name, t] of Object.entries(state)) tensors[name] = { dtype: 'F32', shape: [...t.dims], data: t.data as Float32Array };
    writeSafetensors(path, tensors, { ...metadata, format: CHECKPOINT_FORMAT, step: String(this.stepCount) });
  }

  /** Restores a checkpoint written by `save`; every tensor must match this model's names and shapes. */
  async load(path: string): Promise<Record<string, string>> {
    const file = readSafetensors(path, path);
    if (file.metadata['format'] !== CHECKPOINT_FORMAT) {
      throw new InputError(`${path}: not a gesso training checkpoint (format "${file.metadata['format'] ?? 'missing'}", expected "${CHECKPOINT_FORMAT}")`);
    }
    const state: Record<string, HostTensor> = {};
    for (const [name, shape] of this.shapes) {
      if (this.frozen.has(name)) continue;
      const t = file.tensors.get(name);
      if (!t) throw new InputError(`${path}: checkpoint has no tensor "${name}" (was it written by another model?)`);
      if (t.shape.join() !== shape.join())
        throw new InputError(`${path}: tensor "${name}" has shape [${t.shape.join(', ')}], this model needs [${shape.join(', ')}]`);
      const data = Float32Array.from(toFloat32(t));
      // A NaN checkpoint would resume into (or, at the last step, export) a NaN model.
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        throw new InputError(
          `${path}: tensor "${name}" holds ${data[bad]} at index ${bad}: the checkpoint is corrupt (training state must be finite); delete it to train this stage from the start`,
        );
      }
      state[name] = { dtype: 'float32', dims: [...shape], data };
    }
    const step = Number(file.metadata['step']);
    if (!Number.isSafeInteger(step) || step < 0 || step > MAX_CHECKPOINT_STEP) {
      throw new InputError(`${path}: checkpoint step "${file.metadata['step']}" is not a whole number from 0 to ${MAX_CHECKPOINT_STEP}`);
    }
    await this.runner.setState(state, { transfer: true });
    this.stepCount = step;
    return file.metadata;
  }

  async release(): Promise<void> {
    await this.runner.release();
  }
}

/** Raised when a step yields a non-finite loss or gradient; the last good checkpoint is left as it was. */
export class TrainingDivergedError extends GessoError {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}
