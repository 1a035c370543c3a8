/** The 4× upscaler net: shapes at several sizes, the bilinear skip, its gradients, export, and `gesso upscale`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { gradients } from '../../src/autodiff/grad.ts';
import { upscaleCommand } from '../../src/cli/commands/upscale.ts';
import { commands } from '../../src/cli/commands/index.ts';
import { InputError } from '../../src/core/errors.ts';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import { abs, reduceMean, sub } from '../../src/graph/ops/index.ts';
import { bilinearUpscale } from '../../src/image/bicubic.ts';
import { readImageInfo } from '../../src/image/read-info.ts';
import { buildUpscaler, exportUpscaler, upscalerConfig, upscalerParamCount } from '../../src/models/upscaler.ts';
import { loadUpscaler } from '../../src/pipelines/upscaler.ts';
import { Session } from '../../src/runtime/session.ts';
import { exportToFolder } from '../../src/train/upscaler/train-upscaler.ts';

const small = { channels: 8, blocks: 2 };

/** Trained-looking values: every parameter random (the tail too, which starts at zero). */
function randomValues(config: Partial<typeof small>, seed = 1, std = 0.05): Map<string, Float32Array> {
  const g = new Graph();
  buildUpscaler(g, new Rng(0), config).forward(g.input('x', [1, 3, 4, 4]));
  const rng = new Rng(seed);
  return new Map([...g.params].map(([name, p]) => [name, rng.normal(p.value.length, std)]));
}

test('the graph gives (B, 3, 4h, 4w), and C=32 N=4 has the expected parameter count', () => {
  const g = new Graph();
  const y = buildUpscaler(g, new Rng(0), small).forward(g.input('x', [2, 3, 6, 10]));
  assert.deepEqual(y.shape, [2, 3, 24, 40]);
  const big = new Graph();
  buildUpscaler(big, new Rng(0)).forward(big.input('x', [1, 3, 8, 8]));
  const conv = (cin: number, cout: number): number => cin * cout * 9 + cout;
  const expected = conv(3, 32) + 8 * conv(32, 32) + conv(32, 32) + 2 * conv(32, 128) + conv(32, 3);
  assert.equal(big.paramCount(), expected);
  assert.equal(big.paramCount(), 158979);
  assert.equal(upscalerParamCount(upscalerConfig()), 158979);
});

test('exported once, the model runs at two batch sizes and spatial sizes (dynamic axes)', async () => {
  const config = upscalerConfig(small);
  const model = exportUpscaler(config, randomValues(small));
  assert.deepEqual(
    model.inputs.map((i) => i.name),
    ['image'],
  );
  const session = await Session.create(model.bytes);
  try {
    for (const dims of [
      [1, 3, 16, 16],
      [3, 3, 7, 12],
    ]) {
      const [b, , h, w] = dims as [number, number, number, number];
      const out = await session.run({ image: { dtype: 'float32', dims, data: new Rng(2).uniformArray(b * 3 * h * w, -1, 1) } });
      const up = out['upscaled']!;
      assert.deepEqual(up.dims, [b, 3, 4 * h, 4 * w]);
      const values = up.data as Float32Array;
      assert.ok(
        values.every((v) => v >= -1 && v <= 1),
        'output is clipped to [-1, 1]',
      );
      assert.ok(values.some((v) => v > -1 && v < 1));
    }
  } finally {
    await session.release();
  }
});

test('untrained (zero tail), the net is exactly bilinear upsampling with half-pixel centres', async () => {
  const g = new Graph();
  buildUpscaler(g, new Rng(3), small).forward(g.input('x', [1, 3, 4, 4]));
  const values = new Map([...g.params].map(([name, p]) => [name, p.value]));
  const session = await Session.create(exportUpscaler(upscalerConfig(small), values).bytes);
  try {
    const bytes = Uint8Array.from(new Rng(4).uniformArray(3 * 9 * 11, 0, 255), Math.round);
    const data = Float32Array.from(bytes, (v) => v / 127.5 - 1);
    const out = (await session.run({ image: { dtype: 'float32', dims: [1, 3, 9, 11], data } }))['upscaled']!.data as Float32Array;
    const expected = bilinearUpscale(bytes, 3, 9, 11, 4);
    const got = Uint8Array.from(out, (v) => Math.round((v + 1) * 127.5));
    const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i])), 0);
    assert.ok(worst <= 1, `largest difference ${worst} levels`);
  } finally {
    await session.release();
  }
});

test('autodiff reaches every parameter and skips the bilinear skip, which has no parameters', () => {
  const g = new Graph();
  const x = g.input('x', [2, 3, 4, 4]);
  const target = g.input('target', [2, 3, 16, 16]);
  const loss = reduceMean(abs(sub(buildUpscaler(g, new Rng(0), small).forward(x), target)));
  const params = g.trainableParams();
  const grads = gradients(
    loss,
    params.map((p) => p.tensor),
  );
  grads.forEach((gr, i) => assert.ok(gr, `no gradient for ${params[i]?.name}`));
  // The skip is a bilinear Resize, which has no gradient rule: asking for d loss / d x must fail on it.
  assert.throws(() => gradients(loss, [x]), /Resize .* nearest integer upsampling only/);
});

test('exportToFolder writes upscaler/model.onnx and config.json that loadUpscaler runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-upscaler-'));
  writeFileSync(join(dir, 'model_index.json'), '{"keep": true}');
  const files = exportToFolder(dir, upscalerConfig(small), randomValues(small));
  assert.equal(readFileSync(join(dir, 'model_index.json'), 'utf8'), '{"keep": true}', 'other files are left alone');
  const g = new Graph();
  buildUpscaler(g, new Rng(0), small).forward(g.input('x', [1, 3, 4, 4]));
  assert.deepEqual(JSON.parse(readFileSync(files.config, 'utf8')), {
    _class_name: 'GessoUpscaler',
    scale: 4,
    channels: 8,
    blocks: 2,
    residual_scale: 0.1,
    parameters: g.paramCount(),
  });
  for (const where of [dir, join(dir, 'upscaler')]) {
    const up = await loadUpscaler(where);
    try {
      const out = await up.upscale(new Float32Array(3 * 5 * 6), 6, 5);
      assert.deepEqual([out.width, out.height, out.planes.length], [24, 20, 3 * 24 * 20]);
      await assert.rejects(up.upscale(new Float32Array(3 * 600 * 4), 4, 600), /600.*at most 512 px/);
    } finally {
      await up.release();
    }
  }
  writeFileSync(files.config, JSON.stringify({ _class_name: 'SomethingElse', scale: 4 }));
  await assert.rejects(loadUpscaler(dir), /_class_name "SomethingElse" is not "GessoUpscaler"/);
});

async function capture(args: string[]): Promise<string> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...parts: unknown[]) => void lines.push(parts.join(' '));
  try {
    await upscaleCommand.run(args);
    return lines.join('\n');
  } finally {
    console.log = original;
  }
}

test('gesso upscale writes a 4× PNG marked as an edit, with a recipe', async () => {
  assert.equal(await commands.find((c) => c.name === 'upscale')?.load(), upscaleCommand);
  const dir = mkdtempSync(join(tmpdir(), 'gesso-upscale-cli-'));
  exportToFolder(join(dir, 'model'), upscalerConfig(small), randomValues(small));
  // A transparent PNG: flattened onto white before upscaling.
  await sharp({ create: { width: 12, height: 10, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 0.5 } } })
    .png()
    .toFile(join(dir, 'in.png'));
  const said = await capture([join(dir, 'in.png'), '--model', join(dir, 'model')]);
  const out = join(dir, 'in-x4.png');
  assert.match(said, /wrote .*in-x4\.png \(48x40 from 12x10/);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.width, meta.height, meta.channels], [48, 40, 3]);
  const info = await readImageInfo(out);
  assert.match(JSON.stringify(info), /compositeWithTrainedAlgorithmicMedia/);
  assert.match(JSON.stringify(info), /"kind":"upscale"/);
});

test('gesso upscale: missing file, non-image, bad flags, no upscaler and oversized input are clear InputErrors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-upscale-bad-'));
  exportToFolder(join(dir, 'model'), upscalerConfig(small), randomValues(small));
  const model = ['--model', join(dir, 'model')];
  await assert.rejects(
    capture([join(dir, 'missing.png'), ...model]),
    (e: Error) => e instanceof InputError && /upscale input not found: .*missing\.png/.test(e.message),
  );
  writeFileSync(join(dir, 'notes.png'), 'this is text, not a picture');
  await assert.rejects(
    capture([join(dir, 'notes.png'), ...model]),
    (e: Error) => e instanceof InputError && /notes\.png" is not an image gesso can read/.test(e.message),
  );
  await assert.rejects(capture([...model]), /expected one input image, got none/);
  await assert.rejects(capture(['a.png', 'b.png', ...model]), /expected one input image, got "a\.png", "b\.png"/);
  await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
    .png()
    .toFile(join(dir, 'ok.png'));
  await assert.rejects(capture([join(dir, 'ok.png'), '--model', dir]), /has no upscaler: expected upscaler\/model\.onnx/);
  await assert.rejects(capture([join(dir, 'ok.png'), '--model', join(dir, 'nowhere')]), /model folder .*nowhere" does not exist/);
  await assert.rejects(capture([join(dir, 'ok.png'), '--out', join(dir, 'ok.png'), ...model]), /is the input image/);
  await assert.rejects(capture([join(dir, 'ok.png'), '--out', join(dir, 'ok.jpg'), ...model]), /expected a path ending in \.png/);
  await assert.rejects(capture([join(dir, 'ok.png'), '--threads', 'two', ...model]), /--threads="two"/);
  await sharp({ create: { width: 520, height: 8, channels: 3, background: '#fff' } })
    .png()
    .toFile(join(dir, 'wide.png'));
  await assert.rejects(
    capture([join(dir, 'wide.png'), ...model]),
    /520x8; expected at most 512x512 pixels \(nothing was decoded\); gesso upscale has no tiling yet: downscale it first/,
  );
});
