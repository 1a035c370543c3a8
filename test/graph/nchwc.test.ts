import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nchwcBlockSize } from '../../src/core/cpu-features.ts';
import { Rng } from '../../src/core/rng.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import { Graph } from '../../src/graph/graph.ts';
import { conv } from '../../src/graph/ops/index.ts';
import { ortNchwcBlockSize } from '../../src/runtime/nchwc-probe.ts';
import { Session } from '../../src/runtime/session.ts';
import type { HostTensor } from '../../src/runtime/tensor.ts';

const block = nchwcBlockSize();

test('the NCHWc block read from the CPU is the one ONNX Runtime uses', { skip: block === 0 && 'no NCHWc block known for this CPU' }, async () => {
  assert.equal(await ortNchwcBlockSize(), block);
});

/** Runs conv(x, w, b) exported with and without the NCHWc lowering on the same random feeds. */
async function both(
  xShape: number[],
  wShape: number[],
  withBias: boolean,
  options: Parameters<typeof conv>[3],
): Promise<{ plain: Float32Array; lowered: Float32Array; ops: string[] }> {
  const g = new Graph();
  const x = g.input('x', xShape);
  const w = g.input('w', wShape);
  const b = withBias ? g.input('b', [wShape[0] as number]) : null;
  const y = conv(x, w, b, options);
  const rng = new Rng(3);
  const feeds: Record<string, HostTensor> = {};
  for (const t of g.inputs) feeds[t.name] = { dtype: 'float32', dims: [...t.shape], data: rng.normal(t.size) };
  const out: Float32Array[] = [];
  let ops: string[] = [];
  for (const nchwcBlock of [0, block]) {
    const model = exportOnnx(g, { outputs: { y }, params: 'inputs', nchwcBlock });
    if (nchwcBlock > 0) ops = [...new TextDecoder('latin1').decode(model.bytes).matchAll(/ReorderInput|ReorderOutput/g)].map((m) => m[0]);
    const s = await Session.create(model.bytes);
    out.push((await s.run(feeds))['y']?.data as Float32Array);
    await s.release();
  }
  return { plain: out[0] as Float32Array, lowered: out[1] as Float32Array, ops };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

const cases: [string, number[], number[], boolean, Parameters<typeof conv>[3], boolean][] = [
  ['blocked input, 3×3, bias', [2, 32, 9, 9], [32, 32, 3, 3], true, { pads: 1 }, true],
  ['RGB stem (input stays NCHW), stride 2', [2, 3, 10, 10], [32, 3, 3, 3], true, { pads: 1, strides: [2, 2] }, true],
  ['dilated 3×3 with asymmetric pads, no bias', [1, 16, 8, 8], [16, 16, 3, 3], false, { pads: [2, 1, 0, 2], dilations: [2, 2] }, true],
  ['output channels not a multiple of the block: standard Conv', [1, 16, 6, 6], [12, 16, 3, 3], false, { pads: 1 }, false],
];
for (const [name, xs, ws, bias, options, lowered] of cases) {
  test(`NCHWc lowering computes the same conv: ${name}`, { skip: block === 0 && 'no NCHWc block known for this CPU' }, async () => {
    const r = await both(xs, ws, bias, options);
    assert.equal(r.ops.length > 0, lowered, `lowered: ${r.ops.join(', ') || 'none'}`);
    assert.ok(maxDiff(r.plain, r.lowered) < 1e-4, `max difference ${maxDiff(r.plain, r.lowered)}`);
  });
}
