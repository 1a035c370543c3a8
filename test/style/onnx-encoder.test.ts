/**
 * A VGG-shaped ONNX file addressed by paper-style layer names: the names follow conv/ReLU order within
 * pooling blocks, and the rebuilt features equal the file's own tensors run by ONNX Runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import * as op from '../../src/graph/ops/index.ts';
import { Session } from '../../src/runtime/session.ts';
import { onnxEncoder } from '../../src/style/onnx-encoder.ts';

test('relu1_2 / pool1 / relu2_1 of a VGG-shaped ONNX file match the file run by ONNX Runtime', async () => {
  const rng = new Rng(2);
  const g = new Graph();
  const x = g.input('data', [1, 3, 32, 32]);
  const conv = (h: ReturnType<typeof g.input>, cin: number, cout: number, name: string) =>
    op.relu(
      op.conv(h, g.param(`${name}.w`, [cout, cin, 3, 3], rng.normal(cout * cin * 9, 0.2)), g.param(`${name}.b`, [cout], rng.normal(cout, 0.1)), { pads: 1 }),
    );
  const r11 = conv(x, 3, 8, 'c11');
  const r12 = conv(r11, 8, 8, 'c12');
  const p1 = op.maxPool(r12, { kernel: [2, 2] });
  const r21 = conv(p1, 8, 16, 'c21');
  const file = join(mkdtempSync(join(tmpdir(), 'gesso-vgg-')), 'vgg.onnx');
  const model = exportOnnx(g, { outputs: { [r21.name]: r21, [r12.name]: r12 }, params: 'initializers' });
  writeFileSync(file, model.bytes);

  const enc = onnxEncoder(file, { normalise: 'none' });
  assert.deepEqual([...enc.layerNames.keys()], ['conv1_1', 'relu1_1', 'conv1_2', 'relu1_2', 'pool1', 'conv2_1', 'relu2_1']);
  const g2 = new Graph();
  const img = g2.input('image', [1, 3, 32, 32]);
  const feats = enc.features(g2, img, ['relu1_2', 'relu2_1']);
  assert.deepEqual(feats['relu2_1']?.shape, [1, 16, 16, 16]);
  const data = rng.uniformArray(3 * 32 * 32);
  const ours = await Session.create(
    exportOnnx(g2, { outputs: Object.fromEntries(Object.values(feats).map((t) => [t.name, t])), params: 'initializers' }).bytes,
  );
  const a = await ours.run({ image: { dtype: 'float32', dims: [1, 3, 32, 32], data } });
  const theirs = await Session.create(model.bytes);
  const b = await theirs.run({ data: { dtype: 'float32', dims: [1, 3, 32, 32], data } });
  const got = a[feats['relu2_1']!.name]?.data as Float32Array;
  const want = b[r21.name]?.data as Float32Array;
  assert.ok(got.every((v, i) => Math.abs(v - (want[i] as number)) < 1e-5));
  assert.throws(() => enc.features(g2, img, ['relu9_9']), /no layer "relu9_9".*conv1_1, relu1_1/);
  await ours.release();
  await theirs.release();
});
