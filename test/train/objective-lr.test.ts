// buildTrainStep's per-objective learning-rate scale (a GAN's two time-scale update rule): each
// parameter steps by lr × its objective's scale, in both optimizer-state layouts, also when parameters
// with different scales alternate in the flat buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/graph/graph.ts';
import * as op from '../../src/graph/ops/index.ts';
import { buildTrainStep } from '../../src/autodiff/train-step.ts';
import { TrainSession } from '../../src/train/train-session.ts';

test('objectives with lrScale: each parameter steps by lr × its scale (flat and per-parameter state)', async () => {
  for (const stateLayout of ['flat', 'per-param'] as const) {
    const g = new Graph();
    const w = g.param('w', [1], Float32Array.of(1));
    const u = g.param('u', [2], Float32Array.of(2, 3));
    const v = g.param('v', [1], Float32Array.of(5));
    const x = g.input('x', [1]);
    const fast = op.reduceSum(op.add(op.mul(w, x), op.mul(v, 2))); // d/dw = x, d/dv = 2
    const slow = op.reduceSum(u); // d/du = 1
    const spec = buildTrainStep(g, {
      loss: op.add(fast, slow),
      optimizer: { kind: 'sgd' },
      stateLayout,
      objectives: [
        { loss: fast, params: ['w', 'v'], lrScale: 4 },
        { loss: slow, params: ['u'] },
      ],
    });
    const session = await TrainSession.create(g, spec, { inProcess: true });
    await session.step({ x: { dtype: 'float32', dims: [1], data: Float32Array.of(1) } }, 0.1);
    const values = await session.values();
    const near = (name: string, want: number[]): void =>
      want.forEach((e, i) =>
        assert.ok(Math.abs((values.get(name)?.[i] as number) - e) < 1e-6, `${stateLayout} ${name}[${i}] = ${values.get(name)?.[i]}, want ${e}`),
      );
    near('w', [1 - 0.4]);
    near('u', [2 - 0.1, 3 - 0.1]);
    near('v', [5 - 0.4 * 2]);
    await session.release();
  }
});
