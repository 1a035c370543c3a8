/**
 * Reverse-mode autodiff over the builder's graph: walks the nodes that lead to `loss` backwards,
 * applies each op's rule from ./rules.ts and sums the gradients that meet at a tensor. The result
 * is more nodes in the same graph, so forward, backward and optimizer update export as one ONNX model.
 */
import { ShapeError } from '../core/errors.ts';
import type { Node, Tensor } from '../graph/graph.ts';
import { add } from '../graph/ops/index.ts';
import { reachableNodes } from '../graph/export.ts';
import { isFloat } from '../graph/types.ts';
import { hasRule, isNonDifferentiable, RULES } from './rules.ts';

/**
 * Gradients of a scalar `loss` with respect to each tensor in `wrt` (parameters or inputs).
 * A tensor the loss does not depend on gets null, so callers notice.
 * `seed` is dL/dloss (default 1).
 */
export function gradients(loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): (Tensor | null)[] {
  if (loss.size !== 1) throw new ShapeError(`gradients: loss must have one element, got shape [${loss.shape.join(', ')}]`);
  if (!isFloat(loss.dtype)) throw new ShapeError(`gradients: loss must be float, got ${loss.dtype}`);
  const g = loss.graph;
  const nodes = reachableNodes([loss]);

  // Only tensors on a path from some `wrt` tensor to the loss need gradients.
  const wrtSet = new Set(wrt);
  const depends = new Set<Tensor>(wrt);
  for (const n of nodes) {
    if (n.inputs.some((t) => t && depends.has(t))) for (const o of n.outputs) depends.add(o);
  }

  const grads = new Map<Tensor, Tensor[]>();
  grads.set(loss, [seed ?? g.scalar(1, loss.dtype)]);
  const total = (t: Tensor): Tensor | null => {
    const parts = grads.get(t);
    if (!parts || parts.length === 0) return null;
    let sum = parts[0] as Tensor;
    for (let i = 1; i < parts.length; i++) sum = add(sum, parts[i] as Tensor);
    grads.set(t, [sum]);
    return sum;
  };

  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k] as Node;
    if (!n.outputs.some((o) => depends.has(o))) continue;
    const gys = n.outputs.map(total);
    if (gys.every((gy) => gy === null)) continue;
    if (isNonDifferentiable(n.op)) continue;
    if (!hasRule(n.op)) throw new ShapeError(`autodiff: op ${n.op} (node ${n.name}) has no gradient rule`);
    const rule = RULES[n.op];
    if (!rule) continue;
    const gxs = rule(n, gys);
    n.inputs.forEach((x, i) => {
      const gx = gxs[i];
      if (!x || !gx || !depends.has(x) || !isFloat(x.dtype)) return;
      if (gx.shape.join() !== x.shape.join()) {
        throw new ShapeError(`autodiff: rule for ${n.op} gave a gradient of shape [${gx.shape.join(', ')}] for input ${i} of shape [${x.shape.join(', ')}]`);
      }
      const list = grads.get(x) ?? [];
      list.push(gx);
      grads.set(x, list);
    });
  }
  return wrt.map((t) => (wrtSet.has(t) ? total(t) : null));
}
