// The optional upscaler/ component: applied after decoding (4x), skippable, recorded in the metadata;
// and models with a fixed batch dim run in groups of that size.
import assert from 'node:assert/strict';
import { cpSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ATTR_TYPE } from '../../src/graph/onnx-proto.ts';
import { generate } from '../../src/pipelines/generate.ts';
import { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { runBatched } from '../../src/pipelines/model-io.ts';
import type { Runner, ValueInfo } from '../../src/runtime/runner.ts';
import type { HostTensor } from '../../src/runtime/tensor.ts';
import { model as onnxModel, node, valueInfo } from '../runtime/fixtures.ts';
import { scratchDir, tinyFolder } from './tiny-models.ts';

/** image (B, 3, h, w) -> upscaled (B, 3, 4h, 4w) by nearest-neighbour Resize. */
function nearest4x(): Uint8Array {
  return onnxModel({
    nodes: [node('Resize', ['image', '', 'scales'], ['upscaled'], [{ name: 'mode', type: ATTR_TYPE.STRING, s: new TextEncoder().encode('nearest') }])],
    inputs: [valueInfo('image', 'float32', ['batch', 3, 'height', 'width'])],
    outputs: [valueInfo('upscaled', 'float32', ['batch', 3, 'up_height', 'up_width'])],
    constants: { scales: { dims: [4], values: [1, 1, 4, 4] } },
  });
}

test('a model with upscaler/ generates at a quarter of the asked-for size and upscales 4x to it; upscale: false skips it', async () => {
  const dir = join(scratchDir(), 'with-upscaler');
  cpSync(tinyFolder('sd1'), dir, { recursive: true });
  mkdirSync(join(dir, 'upscaler'));
  writeFileSync(join(dir, 'upscaler', 'model.onnx'), nearest4x());
  const model = await DiffusionModel.load(dir, { runner: 'in-process' });
  try {
    assert.ok(model.upscaler);
    const request = { prompt: 'x', steps: 2, seed: 3, width: 128, height: 96 };
    const up = await generate(model, request);
    const [big] = up.images;
    assert.ok(big);
    assert.equal(big.width, 128);
    assert.equal(big.height, 96);
    assert.equal(big.pixels.length, 128 * 96 * 3);
    assert.equal(up.timings.upscaleMs.length, 1);
    assert.equal(big.parameters.width, 32, 'Size is the generation size');
    assert.equal(big.parameters.extra?.['Postprocess upscale by'], '4');
    assert.deepEqual(big.recipe.output, { width: 128, height: 96 });
    assert.equal(big.recipe.upscale, true);

    const plain = await generate(model, { ...request, width: 32, height: 24, upscale: false });
    const [small] = plain.images;
    assert.ok(small);
    assert.equal(small.width, 32);
    assert.equal(plain.timings.upscaleMs.length, 0);
    // Nearest 4x of the plain image: pixel (x, y) of the big one is pixel (x/4, y/4) of the small one.
    for (const [x, y] of [
      [0, 0],
      [127, 95],
      [50, 13],
    ] as const) {
      for (let c = 0; c < 3; c++) {
        assert.equal(big.pixels[(y * 128 + x) * 3 + c], small.pixels[(Math.floor(y / 4) * 32 + Math.floor(x / 4)) * 3 + c]);
      }
    }
    await assert.rejects(
      DiffusionModel.load(dir, { runner: 'in-process', upscaler: false }).then(async (m) => {
        const has = m.upscaler !== null;
        await m.release();
        if (!has) throw new Error('not loaded');
      }),
      /not loaded/,
      'upscaler: false does not load it',
    );
  } finally {
    await model.release();
  }
});

test('runBatched feeds a fixed-batch model exactly its batch, padding the last group and dropping the padding', async () => {
  const seen: number[] = [];
  const info: ValueInfo = { name: 'x', dtype: 'float32', shape: [2, 3] };
  const doubler: Runner = {
    name: 'doubler',
    inputs: [info],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2, 3] }],
    async run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
      const x = feeds.x as HostTensor;
      seen.push(x.dims[0]);
      return { y: { dtype: 'float32', dims: x.dims, data: (x.data as Float32Array).map((v) => v * 2) } };
    },
    setState: async () => undefined,
    getState: async () => ({}),
    release: async () => undefined,
  };
  const items = new Float32Array([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]); // 5 items of 3
  const { data, dims } = await runBatched(
    doubler,
    5,
    2,
    (from, count, size) => {
      const x = new Float32Array(size * 3);
      for (let k = 0; k < size; k++) x.set(items.subarray((from + Math.min(k, count - 1)) * 3, (from + Math.min(k, count - 1) + 1) * 3), k * 3);
      return { x: { dtype: 'float32', dims: [size, 3], data: x } };
    },
    'y',
  );
  assert.deepEqual(seen, [2, 2, 2]);
  assert.deepEqual(dims, [5, 3]);
  assert.deepEqual(
    [...data],
    [...items].map((v) => v * 2),
  );
});
