/** DepthToSpace (DCR) and SpaceToDepth: forward layout, inverse pair, dynamic H/W on export, gradients. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients } from '../../src/autodiff/grad.ts';
import { ShapeError } from '../../src/core/errors.ts';
import { Rng } from '../../src/core/rng.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import { Graph, type Tensor } from '../../src/graph/graph.ts';
import * as op from '../../src/graph/ops/index.ts';
import { Session } from '../../src/runtime/session.ts';
import { gradCheck, type GradCase } from '../helpers/gradcheck.ts';

/** Plain-loop DCR DepthToSpace: input channel (by*b + bx)*C + c goes to output (c, y*b + by, x*b + bx). */
function depthToSpaceReference(x: Float32Array, [n, cIn, h, w]: number[], b: number): Float32Array {
  const c = cIn / (b * b);
  const out = new Float32Array(x.length);
  for (let i = 0; i < n!; i++) {
    for (let by = 0; by < b; by++) {
      for (let bx = 0; bx < b; bx++) {
        for (let k = 0; k < c; k++) {
          for (let y = 0; y < h!; y++) {
            for (let xx = 0; xx < w!; xx++) {
              const src = ((i * cIn! + (by * b + bx) * c + k) * h! + y) * w! + xx;
              const dst = ((i * c + k) * h! * b + y * b + by) * w! * b + xx * b + bx;
              out[dst] = x[src]!;
            }
          }
        }
      }
    }
  }
  return out;
}

async function run(
  g: Graph,
  outputs: Record<string, Tensor>,
  feeds: Record<string, { dims: number[]; data: Float32Array }>,
  dynamicAxes?: Record<string, Record<number, string>>,
) {
  const model = exportOnnx(g, { outputs, params: 'initializers', ...(dynamicAxes ? { dynamicAxes } : {}) });
  const session = await Session.create(model.bytes);
  try {
    const host = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { dtype: 'float32' as const, ...v }]));
    return await session.run(host);
  } finally {
    await session.release();
  }
}

test('depthToSpace is DCR order, and spaceToDepth undoes it', async () => {
  const dims = [2, 12, 3, 4];
  const g = new Graph();
  const x = g.input('x', dims);
  const y = op.depthToSpace(x, 2);
  assert.deepEqual(y.shape, [2, 3, 6, 8]);
  const back = op.spaceToDepth(y, 2);
  assert.deepEqual(back.shape, dims);
  const data = new Rng(3).normal(2 * 12 * 3 * 4);
  const out = await run(g, { y, back }, { x: { dims, data } });
  assert.deepEqual(Array.from(out['y']!.data as Float32Array), Array.from(depthToSpaceReference(data, dims, 2)));
  assert.deepEqual(Array.from(out['back']!.data as Float32Array), Array.from(data));
});

test('exported with dynamic H and W, the ops run right at another size (no size baked in)', async () => {
  const g = new Graph();
  const x = g.input('x', [1, 8, 4, 4]);
  const y = op.depthToSpace(x, 2);
  const z = op.spaceToDepth(op.mul(y, 2), 2);
  const dyn = { 0: 'batch', 2: 'h', 3: 'w' };
  const dims = [3, 8, 5, 7];
  const data = new Rng(4).normal(3 * 8 * 5 * 7);
  const out = await run(g, { y, z }, { x: { dims, data } }, { x: dyn, y: dyn, z: dyn });
  assert.deepEqual(out['y']!.dims, [3, 2, 10, 14]);
  assert.deepEqual(Array.from(out['y']!.data as Float32Array), Array.from(depthToSpaceReference(data, dims, 2)));
  assert.deepEqual(
    Array.from(out['z']!.data as Float32Array),
    Array.from(data, (v) => v * 2),
  );
});

test('bad block sizes and shapes are ShapeErrors naming the shape', () => {
  const g = new Graph();
  assert.throws(() => op.depthToSpace(g.input('a', [1, 6, 2, 2]), 2), /DepthToSpace: 6 channels of \[1, 6, 2, 2\] do not divide by block² = 4/);
  assert.throws(() => op.spaceToDepth(g.input('b', [1, 3, 5, 4]), 2), /SpaceToDepth: H and W of \[1, 3, 5, 4\] do not divide by block size 2/);
  assert.throws(() => op.depthToSpace(g.input('c', [4, 2, 2]), 2), /needs \(N, C, H, W\)/);
  assert.throws(() => op.depthToSpace(g.input('d', [1, 4, 2, 2]), 0), ShapeError);
});

test('autodiff refuses a CRD DepthToSpace rather than give it the DCR gradient', () => {
  const g = new Graph();
  const x = g.input('x', [1, 4, 2, 2]);
  const [y] = g.addNode('DepthToSpace', [x], { blocksize: { i: 2 }, mode: { s: 'CRD' } }, [{ shape: [1, 1, 4, 4], dtype: 'float32' }]);
  assert.throws(() => gradients(op.reduceSum(y!), [x]), /DCR mode only, got CRD/);
});

const cases: Record<string, GradCase> = {
  'DepthToSpace (block 2)': {
    build: (g) => {
      const x = g.input('x', [2, 8, 3, 2]);
      return { wrt: [x], out: op.depthToSpace(x, 2) };
    },
  },
  'DepthToSpace (block 3)': {
    build: (g) => {
      const x = g.input('x', [1, 9, 2, 3]);
      return { wrt: [x], out: op.depthToSpace(x, 3) };
    },
  },
  'SpaceToDepth (block 2)': {
    build: (g) => {
      const x = g.input('x', [2, 3, 4, 6]);
      return { wrt: [x], out: op.spaceToDepth(x, 2) };
    },
  },
  'Conv then DepthToSpace (sub-pixel upsampling)': {
    build: (g) => {
      const x = g.input('x', [2, 2, 3, 3]);
      const w = g.input('w', [8, 2, 3, 3]);
      const b = g.input('b', [8]);
      // A square after the shuffle makes the gradient depend on where each value landed.
      const y = op.depthToSpace(op.conv(x, w, b, { pads: 1 }), 2);
      return { wrt: [x, w, b], out: op.mul(y, y) };
    },
  },
};

for (const [name, c] of Object.entries(cases)) {
  test(`gradient of ${name} matches finite differences`, async () => {
    const { failures } = await gradCheck(c, 11);
    assert.deepEqual(failures, []);
  });
}
