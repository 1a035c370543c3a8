// Golden images: the default model's pictures must not change across versions unless a change is meant.
// On the runtime that made the golden files (images.json: ORT version, CPU kernel family) the bytes must be
// equal; on another runtime ORT's kernels round differently, and the pixels must stay within
// REMAKE_TOLERANCE. Either way the test says which case applied. An intended change: `npm run golden:update`
// and a CHANGELOG.md entry.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { decodeImage } from '../../src/image/read-info.ts';
import { toBytes } from '../../src/image/write-image.ts';
import { loadModel, type DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { pixelDifference, REMAKE_TOLERANCE, remakeExpectation, withinRemakeTolerance } from '../../src/pipelines/remake.ts';
import { GOLDEN_CASES, GOLDEN_DIR, readManifest, renderCase, sha256 } from './golden-images.ts';

const manifest = readManifest();
const expectation = remakeExpectation(manifest.runtime);
const UPDATE = 'If the change is intended, run `npm run golden:update` and say what changed and why in CHANGELOG.md.';

let model: DiffusionModel;
before(async () => {
  model = await loadModel();
});
after(async () => {
  await model.release();
});

test('the golden manifest covers every case and its PNGs hold the recorded pixels', async () => {
  assert.deepEqual(
    manifest.images.map((e) => e.name),
    GOLDEN_CASES.map((c) => c.name),
  );
  for (const entry of manifest.images) {
    const decoded = await decodeImage(join(GOLDEN_DIR, `${entry.name}.png`));
    assert.equal(sha256(toBytes(decoded.data, decoded.width, 3)), entry.sha256, `${entry.name}.png does not hold the pixels images.json records`);
  }
});

for (const c of GOLDEN_CASES) {
  test(`golden image ${c.name} (${c.request.scheduler ?? "the model's scheduler"}, seed ${c.request.seed})`, async (t) => {
    t.diagnostic(expectation.message);
    const entry = manifest.images.find((e) => e.name === c.name);
    assert.ok(entry, `images.json has no entry ${c.name}`);
    const made = await renderCase(model, c);
    assert.equal(`${made.width}x${made.height}`, `${entry.width}x${entry.height}`, `${c.name}: size changed. ${UPDATE}`);
    const golden = await decodeImage(join(GOLDEN_DIR, `${c.name}.png`));
    const d = pixelDifference(made.bytes, toBytes(golden.data, golden.width, 3));
    const where = `largest difference ${d.max}/255 at pixel (${Math.floor(d.at / 3) % made.width}, ${Math.floor(d.at / 3 / made.width)}), mean ${d.mean.toFixed(3)}/255`;
    if (expectation.exact) {
      assert.equal(made.sha256, entry.sha256, `${c.name}: ${expectation.message}, but the pixels changed (${where}). ${UPDATE}`);
    } else {
      assert.ok(
        withinRemakeTolerance(d),
        `${c.name}: ${expectation.message}; ${where} exceeds ${REMAKE_TOLERANCE.max}/255 max, ${REMAKE_TOLERANCE.mean}/255 mean. ${UPDATE}`,
      );
    }
  });
}

test('other ORT kernels (graph optimizations off: no fusion, other rounding) stay within REMAKE_TOLERANCE', async (t) => {
  // A stand-in for another CPU's kernels that this machine can run: measured 1/255 at most, mean < 0.001/255.
  const unfused = await loadModel(undefined, { session: { graphOptimizationLevel: 'disabled' } });
  try {
    for (const name of ['euler-a', 'dpmpp-2m-karras', 'default-upscaled']) {
      const c = GOLDEN_CASES.find((k) => k.name === name);
      assert.ok(c);
      const made = await renderCase(unfused, c);
      const golden = await decodeImage(join(GOLDEN_DIR, `${name}.png`));
      const d = pixelDifference(made.bytes, toBytes(golden.data, golden.width, 3));
      t.diagnostic(`${name}: max ${d.max}/255, mean ${d.mean.toFixed(4)}/255`);
      assert.ok(withinRemakeTolerance(d), `${name} without graph optimizations: max ${d.max}/255, mean ${d.mean}/255`);
    }
  } finally {
    await unfused.release();
  }
});
