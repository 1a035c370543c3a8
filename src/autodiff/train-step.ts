/**
 * The training-step graph: forward, loss, backward, gradient clipping, optimizer update and EMA in
 * one ONNX model. Inputs: every parameter, every optimizer-state tensor, the batch, `step` and `lr`.
 * Outputs: `loss`, metrics, `grad_norm`, and `new.<name>` for each parameter and state tensor, which
 * the runtime carries back into `<name>` for the next run (so weights never leave the session).
 */
import { ShapeError } from '../core/errors.ts';
import type { Graph, Tensor } from '../graph/graph.ts';
import { add, div, maximum, mul, reduceSum, sqrt } from '../graph/ops/index.ts';
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
  /** Keep an exponential moving average of the weights (`ema.<name>`), updated after each step. */
  emaDecay?: number;
}

export interface TrainStep {
  model: ExportedModel;
  /** Trainable parameter names, in graph order. */
  params: string[];
  /** Optimizer and EMA state names (`<slot>.<param>`), each shaped like its parameter. */
  state: string[];
  /** Output name -> input name, for the runtime's carry option. */
  carry: Record<string, string>;
  /** Inputs the caller feeds each step (the batch), besides `step` and `lr`. */
  batchInputs: string[];
  /** Outputs to fetch each step. */
  fetch: string[];
}

export const STEP_INPUT = 'step';
export const LR_INPUT = 'lr';

export function buildTrainStep(g: Graph, options: TrainStepOptions): TrainStep {
  const { loss } = options;
  if (loss.graph !== g) throw new ShapeError('buildTrainStep: loss belongs to another graph');
  const step = g.input(STEP_INPUT, [], 'float32');
  const lr = g.input(LR_INPUT, [], 'float32');
  const params = g.trainableParams();
  if (params.length === 0) throw new ShapeError('buildTrainStep: the graph has no trainable parameters');
  let grads = gradients(loss, params.map((p) => p.tensor)).map((gr, i) => {
    if (!gr) throw new ShapeError(`buildTrainStep: the loss does not depend on parameter "${params[i]?.name}"`);
    return gr;
  });

  let sumSq: Tensor | null = null;
  for (const gr of grads) {
    const s = reduceSum(mul(gr, gr));
    sumSq = sumSq ? add(sumSq, s) : s;
  }
  const gradNorm = sqrt(sumSq as Tensor);
  if (options.clipGradNorm !== undefined) {
    // scale = max_norm / max(norm, max_norm): 1 when the norm is already small enough.
    const scale = div(options.clipGradNorm, maximum(gradNorm, options.clipGradNorm));
    grads = grads.map((gr) => mul(gr, scale));
  }

  const outputs: Record<string, Tensor> = { loss, grad_norm: gradNorm, ...(options.metrics ?? {}) };
  const fetch = Object.keys(outputs);
  const carry: Record<string, string> = {};
  const stateNames: string[] = [];
  const slots = stateSlots(options.optimizer);
  params.forEach((p, i) => {
    const state: Record<string, Tensor> = {};
    for (const slot of slots) {
      const name = `${slot}.${p.name}`;
      state[slot] = g.input(name, p.tensor.shape, 'float32');
      stateNames.push(name);
    }
    const update = applyOptimizer(options.optimizer, p.tensor, grads[i] as Tensor, state, step, lr);
    outputs[`new.${p.name}`] = update.param;
    carry[`new.${p.name}`] = p.name;
    for (const [slot, t] of Object.entries(update.state)) {
      outputs[`new.${slot}.${p.name}`] = t;
      carry[`new.${slot}.${p.name}`] = `${slot}.${p.name}`;
    }
    if (options.emaDecay !== undefined) {
      const name = `ema.${p.name}`;
      const ema = g.input(name, p.tensor.shape, 'float32');
      stateNames.push(name);
      outputs[`new.${name}`] = add(mul(ema, options.emaDecay), mul(update.param, 1 - options.emaDecay));
      carry[`new.${name}`] = name;
    }
  });

  const model = exportOnnx(g, { outputs, params: 'inputs', name: 'train_step' });
  const fixed = new Set([...params.map((p) => p.name), ...stateNames, STEP_INPUT, LR_INPUT]);
  const batchInputs = model.inputs.map((i) => i.name).filter((n) => !fixed.has(n) && !g.params.has(n));
  return { model, params: params.map((p) => p.name), state: stateNames, carry, batchInputs, fetch };
}

