/**
 * Optimizer updates written as graph ops, so one ONNX model holds forward, backward and update.
 * Formulas follow PyTorch's documented algorithms (torch.optim.SGD / Adam / AdamW), so a gesso run
 * and a PyTorch run with the same hyper-parameters take the same steps.
 * `step` is the 1-based step number and `lr` the learning rate, both float32 scalar graph inputs.
 */
import type { Tensor } from '../graph/graph.ts';
import { add, div, mul, pow, sqrt, sub } from '../graph/ops/index.ts';

export type OptimizerConfig =
  | { kind: 'sgd'; momentum?: number; nesterov?: boolean; weightDecay?: number }
  | { kind: 'adam'; beta1?: number; beta2?: number; eps?: number; weightDecay?: number }
  | { kind: 'adamw'; beta1?: number; beta2?: number; eps?: number; weightDecay?: number };

/** One parameter's update: its new value and new optimizer state, keyed by state slot. */
export interface ParamUpdate {
  param: Tensor;
  state: Record<string, Tensor>;
}

/** State slots the optimizer keeps per parameter (each has the parameter's shape, starts at zero). */
export function stateSlots(config: OptimizerConfig): string[] {
  if (config.kind === 'sgd') return (config.momentum ?? 0) > 0 ? ['momentum'] : [];
  return ['exp_avg', 'exp_avg_sq'];
}

/** Builds the update of parameter `p` with gradient `grad` and state tensors `state` (slot -> tensor). */
export function applyOptimizer(config: OptimizerConfig, p: Tensor, grad: Tensor, state: Record<string, Tensor>, step: Tensor, lr: Tensor): ParamUpdate {
  switch (config.kind) {
    case 'sgd': {
      const wd = config.weightDecay ?? 0;
      const momentum = config.momentum ?? 0;
      const g = wd > 0 ? add(grad, mul(p, wd)) : grad;
      if (momentum === 0) return { param: sub(p, mul(g, lr)), state: {} };
      // PyTorch: buf = momentum * buf + g (buf starts at g, which equals this with buf = 0).
      const buf = add(mul(state['momentum'] as Tensor, momentum), g);
      const d = config.nesterov ? add(g, mul(buf, momentum)) : buf;
      return { param: sub(p, mul(d, lr)), state: { momentum: buf } };
    }
    case 'adam':
    case 'adamw': {
      const b1 = config.beta1 ?? 0.9;
      const b2 = config.beta2 ?? 0.999;
      const eps = config.eps ?? 1e-8;
      const wd = config.weightDecay ?? (config.kind === 'adamw' ? 0.01 : 0);
      let g = grad;
      let base = p;
      if (config.kind === 'adam' && wd > 0) g = add(g, mul(p, wd)); // L2 penalty in the gradient
      if (config.kind === 'adamw' && wd > 0) base = mul(p, sub(1, mul(lr, wd))); // decoupled decay
      const m = add(mul(state['exp_avg'] as Tensor, b1), mul(g, 1 - b1));
      const v = add(mul(state['exp_avg_sq'] as Tensor, b2), mul(mul(g, g), 1 - b2));
      // Bias corrections as scalars: denom = sqrt(v) / sqrt(1 - b2^t) + eps; step size = lr / (1 - b1^t).
      const bc1 = sub(1, pow(p.graph.scalar(b1), step));
      const bc2 = sub(1, pow(p.graph.scalar(b2), step));
      const denom = add(div(sqrt(v), sqrt(bc2)), eps);
      const update = mul(div(m, denom), div(lr, bc1));
      return { param: sub(base, update), state: { exp_avg: m, exp_avg_sq: v } };
    }
  }
}
