/**
 * Style transfer on frame sequences: frames from a folder (natural order) or an animated GIF/WebP; bad
 * input (empty folder, frames of different sizes, a still image, nothing half-written); block-matching
 * motion recovers a known shift; temporal coherence lowers the change along the motion for a one-pass
 * network (fast) and for Gatys; `gesso style FRAMES --out x.webp` writes the animation and its recipe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import { writeImageFile } from '../../src/image/write-image.ts';
import { readImageInfo } from '../../src/image/read-info.ts';
import { COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA } from '../../src/image/xmp.ts';
import { writeRgbAnimation } from '../../src/pipelines/explore-output.ts';
import { styleCommand } from '../../src/cli/commands/style.ts';
import { buildFastNet, FAST_NET_DEFAULT } from '../../src/style/fast-net.ts';
import { loadFrames } from '../../src/style/frames.ts';
import { estimateFlow } from '../../src/style/motion.ts';
import { toPixels, type RgbPlanes } from '../../src/style/planes.ts';
import { stylizeSequence } from '../../src/style/sequence.ts';
import { exportFastNet } from '../../src/style/train-fast.ts';

const dir = mkdtempSync(join(tmpdir(), 'gesso-seq-'));

/** A smooth 2-D texture (sums of sines) seen through a window moved by (ox, oy), plus seeded per-frame noise. */
function frame(w: number, h: number, ox: number, oy: number, noise = 0, seed = 0): RgbPlanes {
  const rng = new Rng(seed);
  const data = new Float32Array(3 * w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const u = x + ox;
      const v = y + oy;
      const base = [0.5 + 0.3 * Math.sin(u / 3.1) * Math.cos(v / 4.3), 0.5 + 0.3 * Math.sin((u + v) / 5.7), 0.5 + 0.3 * Math.cos(u / 6.1 - v / 2.9)];
      for (let c = 0; c < 3; c++) data[c * w * h + y * w + x] = Math.min(1, Math.max(0, (base[c] as number) + noise * (rng.uniform() - 0.5)));
    }
  return { data, width: w, height: h };
}

/** A camera panning 2 px right and 1 px down per frame, with sensor noise that differs every frame. */
const pan = (n: number, w: number, noise: number): RgbPlanes[] => Array.from({ length: n }, (_, k) => frame(w, w, 2 * k, k, noise, 100 + k));

async function savePng(path: string, p: RgbPlanes): Promise<void> {
  await writeImageFile(path, toPixels(p), p.width, p.height, 3);
}

test('frames: a folder in natural order (f2 before f10); an animated GIF frame by frame', async () => {
  const folder = join(dir, 'frames');
  mkdirSync(folder);
  const frames = pan(3, 24, 0);
  await savePng(join(folder, 'f10.png'), frames[2]!);
  await savePng(join(folder, 'f2.png'), frames[1]!);
  await savePng(join(folder, 'f1.png'), frames[0]!);
  const seq = await loadFrames(folder);
  assert.deepEqual(seq.names, ['f1.png', 'f2.png', 'f10.png']);
  assert.ok(Math.abs((seq.frames[2]!.data[5] as number) - (frames[2]!.data[5] as number)) < 1 / 255 + 1e-6);

  const gif = join(dir, 'anim.gif');
  await writeRgbAnimation(
    gif,
    frames.map((f) => Uint8Array.from(toPixels(f), (v) => Math.round(v * 255))),
    24,
    24,
    { fps: 10 },
  );
  const anim = await loadFrames(gif);
  assert.equal(anim.frames.length, 3);
  assert.equal(anim.frames[1]!.width, 24);
  assert.deepEqual(anim.delays, [100, 100, 100]);
  // GIF has a 256-colour palette: frames come back close, not exact.
  let err = 0;
  for (let i = 0; i < frames[1]!.data.length; i++) err += Math.abs((anim.frames[1]!.data[i] as number) - (frames[1]!.data[i] as number));
  assert.ok(err / frames[1]!.data.length < 0.05, `mean error ${err / frames[1]!.data.length}`);
});

test('frames: an empty folder, frames of different sizes and a still image are refused by name', async () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  await assert.rejects(loadFrames(empty), /holds no images/);
  const mixed = join(dir, 'mixed');
  mkdirSync(mixed);
  await savePng(join(mixed, 'a.png'), frame(24, 24, 0, 0));
  await savePng(join(mixed, 'b.png'), frame(20, 24, 0, 0));
  await assert.rejects(loadFrames(mixed), /frame "b\.png" is 20x24, but the first frame "a\.png" is 24x24/);
  const still = join(dir, 'still.webp');
  await sharp(Buffer.alloc(16 * 16 * 3, 128), { raw: { width: 16, height: 16, channels: 3 } })
    .webp()
    .toFile(still);
  await assert.rejects(loadFrames(still), /has one frame/);
  await assert.rejects(loadFrames(join(dir, 'missing')), /no such file or folder/);
  await assert.rejects(
    stylizeSequence({ frames: [frame(16, 16, 0, 0), frame(20, 16, 0, 0)], method: 'fast', model: 'x.onnx' }),
    /frame 1 is 20x16, frame 0 is 16x16/,
  );
  // Through the CLI: nothing is written.
  const out = join(dir, 'never.webp');
  await assert.rejects(styleCommand.run([mixed, '--method', 'fast', '--model', 'x.onnx', '--out', out]), /all frames of a sequence must have one size/);
  assert.equal(existsSync(out), false);
});

test('motion: block matching finds a known shift', () => {
  const a = frame(64, 48, 0, 0);
  const b = frame(64, 48, 3, -2); // the window moved right 3 and up 2: b(x, y) = a(x + 3, y - 2)
  const flow = estimateFlow(a, b);
  const centre = 24 * 64 + 32;
  assert.equal(Math.round(flow.dx[centre] as number), 3);
  assert.equal(Math.round(flow.dy[centre] as number), -2);
});

async function randomFastNet(): Promise<string> {
  const g = new Graph();
  buildFastNet(g, g.input('x', [1, 3, 224, 224]), FAST_NET_DEFAULT, new Rng(3));
  const path = join(dir, 'random-style.onnx');
  exportFastNet(new Map([...g.params.values()].map((p) => [p.name, p.value])), FAST_NET_DEFAULT, path);
  return path;
}

test('fast: coherence lowers the change along the motion (noisy frames), and the CLI writes the animation', async () => {
  const model = await randomFastNet();
  const frames = pan(5, 48, 0.15);
  const run = (coherent: boolean) => stylizeSequence({ frames, method: 'fast', model, coherent, size: 48 });
  const [independent, coherent] = [await run(false), await run(true)];
  assert.equal(coherent.frames.length, 5);
  assert.ok(
    coherent.flicker.warpedOutput < 0.8 * independent.flicker.warpedOutput,
    `along the motion: coherent ${coherent.flicker.warpedOutput}, independent ${independent.flicker.warpedOutput}`,
  );
  assert.equal(coherent.recipe['format'], 'gesso.style-sequence');

  const folder = join(dir, 'noisy');
  mkdirSync(folder);
  for (const [k, f] of frames.entries()) await savePng(join(folder, `frame${k}.png`), f);
  const out = join(dir, 'out.webp');
  assert.equal(await styleCommand.run([folder, '--method', 'fast', '--model', model, '--size', '48', '--out', out]), 0);
  const meta = await sharp(readFileSync(out)).metadata();
  assert.equal(meta.pages, 5);
  // The recipe and IPTC provenance are inside the animation (no sidecar), as gesso info reads them.
  const info = await readImageInfo(out);
  const recipe = info.recipe as unknown as { frames: number; sequence: { coherent: boolean } };
  assert.equal(recipe.frames, 5);
  assert.equal(recipe.sequence.coherent, true);
  assert.equal(info.digitalSourceType, COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA);
  assert.equal(existsSync(`${out}.json`), false);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp')),
    [],
  );
});

test('gatys: starting from the previous result and the temporal loss lower the change along the motion', async () => {
  const frames = pan(3, 40, 0.1);
  const style = { image: { planes: frame(40, 40, 50, 50), name: 'texture' } };
  const run = (coherent: boolean) => stylizeSequence({ frames, method: 'gatys', styles: [style], iterations: 12, coherent, size: 40 });
  const [independent, coherent] = [await run(false), await run(true)];
  assert.ok(
    coherent.flicker.warpedOutput < 0.8 * independent.flicker.warpedOutput,
    `along the motion: coherent ${coherent.flicker.warpedOutput}, independent ${independent.flicker.warpedOutput}`,
  );
});

test('gatys: frames after the first run half of the iterations at half the learning rate, and drift is measured', async () => {
  const frames = pan(3, 40, 0.1);
  const style = { image: { planes: frame(40, 40, 50, 50), name: 'texture' } };
  const totals: number[] = [];
  const result = await stylizeSequence({ frames, method: 'gatys', styles: [style], iterations: 12, size: 40, onIteration: (_, total) => totals.push(total) });
  // Frame 0 from the content: 12 iterations; frames 1 and 2 from the previous result: 6 each, at lr 0.025.
  assert.deepEqual([totals.length, totals[0], totals.at(-1)], [24, 12, 6]);
  assert.deepEqual(result.recipe['sequence'], { coherent: true, temporalWeight: 200, followIterations: 6, followLearningRate: 0.025, motionRadius: 12 });
  assert.equal(result.flicker.structure.length, 3);
  assert.ok(result.flicker.structure.every((v) => v > -1 && v <= 1));
  assert.ok(Math.abs(result.flicker.drift - (result.flicker.structure[0]! - (result.flicker.structure[1]! + result.flicker.structure[2]!) / 2)) < 1e-9);
});
