import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph } from '../src/graph/graph.ts';
import * as op from '../src/graph/ops/index.ts';
import { exportOnnx } from '../src/graph/export.ts';
import { saveOnnx } from '../src/graph/save.ts';
import { Session } from '../src/runtime/session.ts';
import { Rng } from '../src/core/rng.ts';

test('a model with external weights saves, loads and computes the same as the in-memory one', async () => {
  const rng = new Rng(4);
  const g = new Graph();
  const x = g.input('x', [2, 64]);
  const w = g.param('w', [64, 32], rng.normal(64 * 32));
  const b = g.param('b', [32], rng.normal(32));
  const y = op.add(op.matmul(x, w), b);
  const inMemory = exportOnnx(g, { outputs: { y }, params: 'initializers' });
  const withExternal = exportOnnx(g, { outputs: { y }, params: 'initializers', externalData: { location: 'model.onnx_data' } });
  assert.ok(withExternal.bytes.length < inMemory.bytes.length - 64 * 32 * 4 + 1000);
  const dir = mkdtempSync(join(tmpdir(), 'gesso-ext-'));
  saveOnnx(join(dir, 'model.onnx'), withExternal);
  assert.equal(statSync(join(dir, 'model.onnx_data')).size, 64 * 32 * 4); // the bias (128 B) stays inline
  const feeds = { x: { dtype: 'float32' as const, dims: [2, 64], data: rng.normal(128) } };
  const a = await Session.create(inMemory.bytes);
  const c = await Session.create(join(dir, 'model.onnx'));
  assert.deepEqual((await c.run(feeds))['y']?.data, (await a.run(feeds))['y']?.data);
  await a.release();
  await c.release();
});

test('a model built at one size runs at another when its dims are exported as dynamic', async () => {
  const rng = new Rng(2);
  const g = new Graph();
  const x = g.input('x', [2, 4, 8, 8]); // (B, C, H, W)
  const w = g.param('w', [4, 4, 3, 3], rng.normal(144, 0.2));
  const h = op.conv(x, w, null, { pads: 1 });
  // Group-norm style statistics over (C/G, H, W) with reshape back to the input's runtime shape.
  const grouped = op.reshape(h, [2, 2, -1]); // (B, G, C/G*H*W)
  const centred = op.sub(grouped, op.reduceMean(grouped, [2], true));
  const y = op.resize(op.reshapeLike(centred, h), 2); // (B, C, 2H, 2W)
  const model = exportOnnx(g, {
    outputs: { y },
    params: 'initializers',
    dynamicAxes: { x: { 0: 'batch', 2: 'height', 3: 'width' }, y: { 0: 'batch', 2: 'h2', 3: 'w2' } },
  });
  const s = await Session.create(model.bytes);
  assert.deepEqual(s.inputs[0]?.shape, ['batch', 4, 'height', 'width']);
  const out = await s.run({ x: { dtype: 'float32', dims: [3, 4, 6, 10], data: rng.normal(3 * 4 * 60) } });
  assert.deepEqual(out['y']?.dims, [3, 4, 12, 20]);
  await s.release();
});
