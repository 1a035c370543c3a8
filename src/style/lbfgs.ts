/**
 * L-BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed., algorithm 7.4 two-loop recursion and 7.5)
 * on a flat Float32Array, with a backtracking line search on the Armijo condition. The objective is any
 * async function returning the loss and its gradient (for style transfer: an ONNX graph gesso's autodiff
 * derived). Dot products accumulate in float64. `project` keeps iterates feasible (pixels in [0, 1]);
 * the curvature pair is taken from the projected step, and skipped when its curvature is not positive.
 */

export interface LbfgsEvaluation {
  loss: number;
  grad: Float32Array;
  metrics: Record<string, number>;
}

export interface LbfgsOptions {
  iterations: number;
  /** Curvature pairs kept (default 8). */
  memory?: number;
  /** Largest change of any element on the first step, before there is curvature to scale by (default 0.05). */
  firstStep?: number;
  /** Line-search trials per iteration before giving up (default 12). */
  maxTrials?: number;
  project?: (x: Float32Array) => void;
  /** After each accepted iteration (1-based), with the evaluation at the new point and the point itself. */
  onIteration?: (iteration: number, e: LbfgsEvaluation, x: Float32Array) => void | Promise<void>;
}

export interface LbfgsResult {
  x: Float32Array;
  loss: number;
  iterations: number;
  /** Objective evaluations, line-search trials included. */
  evaluations: number;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

const ARMIJO = 1e-4;

/** Minimises `f` from `x0`; stops after `iterations` accepted steps or when no descent step is found. */
export async function lbfgsMinimize(x0: Float32Array, f: (x: Float32Array) => Promise<LbfgsEvaluation>, o: LbfgsOptions): Promise<LbfgsResult> {
  const memory = o.memory ?? 8;
  const maxTrials = o.maxTrials ?? 12;
  const n = x0.length;
  let x: Float32Array = Float32Array.from(x0);
  o.project?.(x);
  let cur = await f(x);
  let grad = Float32Array.from(cur.grad);
  let evaluations = 1;
  const pairs: { s: Float32Array; y: Float32Array; rho: number }[] = [];
  const dir = new Float32Array(n);
  const alpha = new Float64Array(memory);
  let done = 0;
  for (let it = 1; it <= o.iterations; it++) {
    // Two-loop recursion: dir = -H·grad.
    for (let i = 0; i < n; i++) dir[i] = -(grad[i] as number);
    for (let k = pairs.length - 1; k >= 0; k--) {
      const p = pairs[k]!;
      const a = p.rho * dot(p.s, dir);
      alpha[k] = a;
      for (let i = 0; i < n; i++) dir[i] = (dir[i] as number) - a * (p.y[i] as number);
    }
    const last = pairs[pairs.length - 1];
    // H0 = γI with γ = sᵀy / yᵀy; before any pair, scale so the largest change is `firstStep`.
    const gamma = last ? 1 / (last.rho * dot(last.y, last.y)) : (o.firstStep ?? 0.05) / Math.max(maxAbs(grad), 1e-12);
    for (let i = 0; i < n; i++) dir[i] = (dir[i] as number) * gamma;
    for (let k = 0; k < pairs.length; k++) {
      const p = pairs[k]!;
      const b = p.rho * dot(p.y, dir);
      const c = (alpha[k] as number) - b;
      for (let i = 0; i < n; i++) dir[i] = (dir[i] as number) + c * (p.s[i] as number);
    }
    let slope = dot(grad, dir);
    if (!(slope < 0)) {
      // Not a descent direction (stale curvature): restart from scaled steepest descent.
      pairs.length = 0;
      const scale = (o.firstStep ?? 0.05) / Math.max(maxAbs(grad), 1e-12);
      for (let i = 0; i < n; i++) dir[i] = -(grad[i] as number) * scale;
      slope = dot(grad, dir);
    }
    // Backtracking line search from the full quasi-Newton step.
    let t = 1;
    let accepted: { x: Float32Array; e: LbfgsEvaluation } | null = null;
    for (let trial = 0; trial < maxTrials; trial++) {
      const xn = new Float32Array(n);
      for (let i = 0; i < n; i++) xn[i] = (x[i] as number) + t * (dir[i] as number);
      o.project?.(xn);
      const e = await f(xn);
      evaluations++;
      if (Number.isFinite(e.loss) && e.loss <= cur.loss + ARMIJO * t * slope) {
        accepted = { x: xn, e };
        break;
      }
      t *= 0.5;
    }
    if (!accepted) break; // no decrease along this direction: converged as far as float32 allows
    const s = new Float32Array(n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = (accepted.x[i] as number) - (x[i] as number);
      y[i] = (accepted.e.grad[i] as number) - (grad[i] as number);
    }
    const sy = dot(s, y);
    if (sy > 1e-10 * Math.sqrt(dot(y, y) * dot(s, s))) {
      pairs.push({ s, y, rho: 1 / sy });
      if (pairs.length > memory) pairs.shift();
    }
    x = accepted.x;
    cur = accepted.e;
    grad = Float32Array.from(cur.grad);
    done = it;
    await o.onIteration?.(it, cur, x);
  }
  return { x, loss: cur.loss, iterations: done, evaluations };
}
