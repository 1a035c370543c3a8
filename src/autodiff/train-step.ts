/**
 * The training-step graph: forward, loss, backward, gradient clipping, optimizer update and EMA in
 * one ONNX model. Inputs: every parameter, the optimizer state, the batch, `step` and `lr`.
 * Outputs: `loss`, metrics, `grad_norm`, and `new.<name>` for each parameter and state tensor, which
 * the runtime carries back into `<name>` for the next run (so weights never leave the session).
 *
 * Optimizer state layout:
 * - 'flat' (default): the update runs on one flat buffer of all parameters: gradients are concatenated,
 *   the optimizer's elementwise math runs once over the buffer (a few large kernels instead of a dozen
 *   tiny ones per parameter), and the result is split back into parameters. State is one (P,) tensor
 *   per slot: `opt.exp_avg`, `opt.exp_avg_sq`, `opt.momentum`, `opt.ema`.
 * - 'per-param': one state tensor per parameter and slot (`exp_avg.<param>`, `ema.<param>`).
 */
import { nchwcBlockSize } from '../core/cpu-features.ts';
import { ShapeError } from '../core/errors.ts';
import type { Graph, Param, Tensor } from '../graph/graph.ts';
import { add, concat, div, expand, maximum, mul, reduceSum, reshape, split, sqrt } from '../graph/ops/index.ts';
import { exportOnnx, type ExportedModel } from '../graph/export.ts';
import { gradients } from './grad.ts';
import { applyOptimizer, stateSlots, type OptimizerConfig } from './optimizers.ts';

export interface TrainStepOptions {
  loss: Tensor;
  optimizer: OptimizerConfig;
  /** Extra scalar outputs, e.g. accuracy. */
  metrics?: Record<string, Tensor>;
  /** Scale gradients so their global L2 norm is at most this. */
  clipGradNorm?: number;
  /** Keep an exponential moving average of the weights, updated after each step. */
  emaDecay?: number;
  /** Default 'flat' (see the file comment). */
  stateLayout?: 'flat' | 'per-param';
  /**
   * Lower convolutions to ORT's blocked NCHWc kernels with this block size (src/graph/nchwc.ts); default
   * this CPU's (src/core/cpu-features.ts), 0 for standard Conv nodes only.
   */
  nchwcBlock?: number;
  /**
   * Parameters that descend another loss than `loss` (a GAN: the discriminator's parameters follow the
   * discriminator loss, the generator's the generator loss, both updated in the same step). A parameter
   * named in no objective follows `loss`. `lrScale` multiplies the step's learning rate for that
   * objective's parameters (a GAN's two time-scale update rule: D faster than G).
   */
  objectives?: Objective[];
  /**
   * New values for non-trainable parameters (buffers), carried into them after each step like weights:
   * e.g. a spectral norm's power-iteration vector. Parameter name -> its new value.
   */
  bufferUpdates?: Record<string, Tensor>;
}

/** Parameters that descend their own loss, optionally at a multiple of the learning rate. */
export interface Objective {
  loss: Tensor;
  params: readonly string[];
  lrScale?: number;
}

/** How each state tensor starts: zeros (optimizer moments) or the initial weights (EMA). */
export type StateInit = 'zeros' | 'params';

export interface TrainStep {
  model: ExportedModel;
  /** Trainable parameter names, in graph order (the order of the flat buffer). */
  params: string[];
  /** Element count of each parameter, in `params` order. */
  paramSizes: number[];
  layout: 'flat' | 'per-param';
  /** The NCHWc block the model was lowered for (0: none); the session checks it against the runtime's. */
  nchwcBlock: number;
  /** Optimizer and EMA state names, with how each starts. */
  state: string[];
  stateInit: Record<string, StateInit>;
  /** The state tensor(s) holding the EMA weights, or null without EMA. */
  ema: string | null;
  /** Output name -> input name, for the runtime's carry option. */
  carry: Record<string, string>;
  /** Inputs the caller feeds each step (the batch), besides `step` and `lr`. */
  batchInputs: string[];
  /** Outputs to fetch each step. */
  fetch: string[];
}

export const STEP_INPUT = 'step';
export const LR_INPUT = 'lr';
export const FLAT_PREFIX = 'opt.';

export function buildTrainStep(g: Graph, options: TrainStepOptions): TrainStep {
  const { loss } = options;
  if (loss.graph !== g) throw new ShapeError('buildTrainStep: loss belongs to another graph');
  const layout = options.stateLayout ?? 'flat';
  const step = g.input(STEP_INPUT, [], 'float32');
  const lr = g.input(LR_INPUT, [], 'float32');
  const params = g.trainableParams();
  if (params.length === 0) throw new ShapeError('buildTrainStep: the graph has no trainable parameters');
  const grads = paramGradients(loss, params, options.objectives ?? []);
  const lrScales = params.map((p) => options.objectives?.find((o) => o.params.includes(p.name))?.lrScale ?? 1);
  const outputs: Record<string, Tensor> = { loss, ...(options.metrics ?? {}) };
  const carry: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.bufferUpdates ?? {})) {
    const buffer = g.params.get(name);
    if (!buffer || buffer.trainable) throw new ShapeError(`buildTrainStep: bufferUpdates names "${name}", which is not a non-trainable parameter`);
    if (value.shape.join() !== buffer.tensor.shape.join())
      throw new ShapeError(`buildTrainStep: buffer "${name}" has shape [${buffer.tensor.shape.join(', ')}], its update [${value.shape.join(', ')}]`);
    outputs[`new.${name}`] = value;
    carry[`new.${name}`] = name;
  }
  const stateInit: Record<string, StateInit> = {};
  const addState = (name: string, shape: readonly number[], init: StateInit): Tensor => {
    stateInit[name] = init;
    return g.input(name, shape, 'float32');
  };
  const update = layout === 'flat' ? flatUpdate : perParamUpdate;
  const gradNorm = update(params, grads, lrScales, options, step, lr, outputs, carry, addState);
  outputs['grad_norm'] = gradNorm;
  const fetch = ['loss', 'grad_norm', ...Object.keys(options.metrics ?? {})];

  const nchwcBlock = options.nchwcBlock ?? nchwcBlockSize();
  const model = exportOnnx(g, { outputs, params: 'inputs', name: 'train_step', nchwcBlock });
  const state = Object.keys(stateInit);
  const fixed = new Set([...params.map((p) => p.name), ...state, STEP_INPUT, LR_INPUT]);
  const batchInputs = model.inputs.map((i) => i.name).filter((n) => !fixed.has(n) && !g.params.has(n));
  const ema = options.emaDecay === undefined ? null : layout === 'flat' ? `${FLAT_PREFIX}ema` : 'ema.';
  return {
    model,
    params: params.map((p) => p.name),
    paramSizes: params.map((p) => p.value.length),
    layout,
    nchwcBlock,
    state,
    stateInit,
    ema,
    carry,
    batchInputs,
    fetch,
  };
}

/** Each parameter's gradient of its own objective's loss (or of `loss`); one backward pass per objective. */
function paramGradients(loss: Tensor, params: Param[], objectives: readonly Objective[]): Tensor[] {
  const owner = new Map<string, Tensor>();
  for (const o of objectives) {
    for (const name of o.params) {
      if (!params.some((p) => p.name === name)) throw new ShapeError(`buildTrainStep: objective names "${name}", which is not a trainable parameter`);
      if (owner.has(name)) throw new ShapeError(`buildTrainStep: parameter "${name}" is in two objectives`);
      owner.set(name, o.loss);
    }
  }
  const out: Tensor[] = new Array<Tensor>(params.length);
  for (const target of new Set([loss, ...objectives.map((o) => o.loss)])) {
    const idx = params.map((p, i) => ((owner.get(p.name) ?? loss) === target ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) continue;
    gradients(
      target,
      idx.map((i) => (params[i] as Param).tensor),
    ).forEach((gr, k) => {
      const i = idx[k] as number;
      if (!gr) throw new ShapeError(`buildTrainStep: the loss does not depend on parameter "${params[i]?.name}"`);
      out[i] = gr;
    });
  }
  return out;
}

type AddState = (name: string, shape: readonly number[], init: StateInit) => Tensor;

function clipScale(norm: Tensor, maxNorm: number | undefined): Tensor | null {
  // scale = max_norm / max(norm, max_norm): 1 when the norm is already small enough.
  return maxNorm === undefined ? null : div(maxNorm, maximum(norm, maxNorm));
}

/**
 * The learning rate over the flat buffer: the scalar `lr` when every scale is 1, else a (P,) vector with
 * each parameter's run of elements at lr × its scale (consecutive parameters with one scale share a run).
 */
function flatLr(lr: Tensor, scales: number[], sizes: number[]): Tensor {
  if (scales.every((s) => s === 1)) return lr;
  const runs: { scale: number; length: number }[] = [];
  scales.forEach((scale, i) => {
    const last = runs[runs.length - 1];
    if (last && last.scale === scale) last.length += sizes[i] as number;
    else runs.push({ scale, length: sizes[i] as number });
  });
  const pieces = runs.map((r) => expand(reshape(mul(lr, r.scale), [1]), [r.length])); // (n_i,)
  return pieces.length === 1 ? (pieces[0] as Tensor) : concat(pieces, 0); // (P,)
}

function flatUpdate(
  params: Param[],
  grads: Tensor[],
  lrScales: number[],
  o: TrainStepOptions,
  step: Tensor,
  lr: Tensor,
  outputs: Record<string, Tensor>,
  carry: Record<string, string>,
  addState: AddState,
): Tensor {
  const sizes = params.map((p) => p.value.length);
  const total = sizes.reduce((a, b) => a + b, 0);
  const flatten = (ts: Tensor[]): Tensor =>
    ts.length === 1
      ? reshape(ts[0] as Tensor, [-1])
      : concat(
          ts.map((t) => reshape(t, [-1])),
          0,
        ); // (P,)
  let g = flatten(grads);
  const norm = sqrt(reduceSum(mul(g, g)));
  const scale = clipScale(norm, o.clipGradNorm);
  if (scale) g = mul(g, scale);
  const p = flatten(params.map((q) => q.tensor));
  const state: Record<string, Tensor> = {};
  for (const slot of stateSlots(o.optimizer)) state[slot] = addState(`${FLAT_PREFIX}${slot}`, [total], 'zeros');
  const u = applyOptimizer(o.optimizer, p, g, state, step, flatLr(lr, lrScales, sizes));
  const pieces = sizes.length === 1 ? [u.param] : split(u.param, sizes, 0);
  params.forEach((q, i) => {
    outputs[`new.${q.name}`] = reshape(pieces[i] as Tensor, [...q.tensor.shape]);
    carry[`new.${q.name}`] = q.name;
  });
  for (const [slot, t] of Object.entries(u.state)) {
    outputs[`new.${FLAT_PREFIX}${slot}`] = t;
    carry[`new.${FLAT_PREFIX}${slot}`] = `${FLAT_PREFIX}${slot}`;
  }
  if (o.emaDecay !== undefined) {
    const ema = addState(`${FLAT_PREFIX}ema`, [total], 'params');
    outputs[`new.${FLAT_PREFIX}ema`] = add(mul(ema, o.emaDecay), mul(u.param, 1 - o.emaDecay));
    carry[`new.${FLAT_PREFIX}ema`] = `${FLAT_PREFIX}ema`;
  }
  return norm;
}

function perParamUpdate(
  params: Param[],
  grads: Tensor[],
  lrScales: number[],
  o: TrainStepOptions,
  step: Tensor,
  lr: Tensor,
  outputs: Record<string, Tensor>,
  carry: Record<string, string>,
  addState: AddState,
): Tensor {
  let sumSq: Tensor | null = null;
  for (const gr of grads) {
    const s = reduceSum(mul(gr, gr));
    sumSq = sumSq ? add(sumSq, s) : s;
  }
  const norm = sqrt(sumSq as Tensor);
  const scale = clipScale(norm, o.clipGradNorm);
  const slots = stateSlots(o.optimizer);
  params.forEach((p, i) => {
    const gr = scale ? mul(grads[i] as Tensor, scale) : (grads[i] as Tensor);
    const state: Record<string, Tensor> = {};
    for (const slot of slots) state[slot] = addState(`${slot}.${p.name}`, p.tensor.shape, 'zeros');
    const lrScale = lrScales[i] as number;
    const u = applyOptimizer(o.optimizer, p.tensor, gr, state, step, lrScale === 1 ? lr : mul(lr, lrScale));
    outputs[`new.${p.name}`] = u.param;
    carry[`new.${p.name}`] = p.name;
    for (const [slot, t] of Object.entries(u.state)) {
      outputs[`new.${slot}.${p.name}`] = t;
      carry[`new.${slot}.${p.name}`] = `${slot}.${p.name}`;
    }
    if (o.emaDecay !== undefined) {
      const ema = addState(`ema.${p.name}`, p.tensor.shape, 'params');
      outputs[`new.ema.${p.name}`] = add(mul(ema, o.emaDecay), mul(u.param, 1 - o.emaDecay));
      carry[`new.ema.${p.name}`] = `ema.${p.name}`;
    }
  });
  return norm;
}
