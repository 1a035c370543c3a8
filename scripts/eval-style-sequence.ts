/**
 * npm run eval:style-sequence [-- --frames N] [--size N] [--iterations N] [--methods adain,fast,gatys]
 * Flicker of each style method on a real camera move (src/eval/style-sequence-eval.ts), with and without
 * temporal coherence; writes docs/style-sequence.png (input frames, then each method independent and
 * coherent) and the animations under .cache/style-sequence/. Results are cached there per method, model
 * hash and settings, so a re-run after retraining one network only recomputes that network's rows.
 * Last line: one JSON object.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeLabelledGrid, type GridRow } from '../src/eval/labelled-grid.ts';
import { EVAL_STYLES } from '../src/eval/style-eval.ts';
import { panZoomFrames, SEQUENCE_SOURCE } from '../src/eval/style-sequence-eval.ts';
import { readGimpPattern } from '../src/style/gimp-pattern.ts';
import { toPixels, type RgbPlanes } from '../src/style/planes.ts';
import { loadFrames } from '../src/style/frames.ts';
import { stylizeSequence, writeSequence, type FlickerStats } from '../src/style/sequence.ts';
import type { StyleMethod } from '../src/style/stylize.ts';

const { values } = parseArgs({
  options: {
    frames: { type: 'string' },
    size: { type: 'string' },
    iterations: { type: 'string' },
    // gatys, coherent: iterations of each frame after the first (default: half of --iterations, at half the learning rate).
    follow: { type: 'string' },
    'follow-lr': { type: 'string' },
    'temporal-weight': { type: 'string' },
    methods: { type: 'string' },
    adain: { type: 'string' },
    fast: { type: 'string' },
    out: { type: 'string' },
  },
});
const n = Number(values.frames ?? 8);
const size = Number(values.size ?? 128);
const iterations = Number(values.iterations ?? 80);
const follow = values.follow !== undefined ? Number(values.follow) : undefined;
const followLr = values['follow-lr'] !== undefined ? Number(values['follow-lr']) : undefined;
const temporalWeight = values['temporal-weight'] !== undefined ? Number(values['temporal-weight']) : undefined;
const methods = (values.methods ?? 'adain,fast,gatys').split(',') as StyleMethod[];
const cache = '.cache/style-sequence';
mkdirSync(cache, { recursive: true });

const started = performance.now();
const frames = await panZoomFrames(SEQUENCE_SOURCE, n, size);
const leopard = readGimpPattern(EVAL_STYLES[0] as string);
const style = { image: { planes: leopard, name: 'leopard.pat' } };
const models: Partial<Record<StyleMethod, string>> = {
  adain: values.adain ?? 'models/gesso-adain-v1',
  fast: values.fast ?? 'models/gesso-fast-leopard/style.onnx',
};
const json: Record<string, number | string> = { frames: n, size, gatys_iterations: iterations, source: SEQUENCE_SOURCE };
/** Identifies a method's result: its model's bytes (fast, adain) and the settings. */
function resultTag(method: StyleMethod): string {
  const model = models[method];
  const file = model && statSync(model).isDirectory() ? join(model, 'decoder.safetensors') : model;
  const hash = file ? createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 10) : `i${iterations}`;
  return `${hash}-n${n}-s${size}`;
}
const cell = (p: RgbPlanes): { pixels: Float32Array; width: number; height: number } => ({ pixels: toPixels(p), width: p.width, height: p.height });
const shown = Math.min(n, 6);
const rows: GridRow[] = [{ label: 'input frames', cells: frames.slice(0, shown).map(cell) }];
for (const method of methods) {
  for (const coherent of [false, true]) {
    const t = performance.now();
    const key = `${method}_${coherent ? 'coherent' : 'independent'}`;
    const followTag =
      coherent && method === 'gatys' ? `-f${follow ?? 'default'}-lr${followLr ?? 'default'}-t${temporalWeight ?? 'default'}`.replace(/\./g, 'p') : ''; // a dot would read as an extension
    const cached = join(cache, `${key}-${resultTag(method)}${followTag}`);
    if (existsSync(`${cached}.json`)) {
      const f = JSON.parse(readFileSync(`${cached}.json`, 'utf8')) as FlickerStats;
      report(key, f, t);
      rows.push({ label: `${method}, ${coherent ? 'coherent' : 'independent'}`, cells: (await loadFrames(cached)).frames.slice(0, shown).map(cell) });
      continue;
    }
    const result = await stylizeSequence({
      frames,
      method,
      size,
      coherent,
      ...(method === 'fast' ? { model: models.fast as string } : { styles: [style] }),
      ...(method === 'adain' ? { model: models.adain as string } : {}),
      ...(method === 'gatys'
        ? {
            iterations,
            ...(follow !== undefined ? { followIterations: follow } : {}),
            ...(followLr !== undefined ? { followLearningRate: followLr } : {}),
            ...(temporalWeight !== undefined ? { temporalWeight } : {}),
          }
        : {}),
      onFrame: (k) => console.error(`${method} ${coherent ? 'coherent' : 'independent'} frame ${k + 1}/${n}`),
    });
    await writeSequence(join(cache, `${key}.webp`), result, { fps: 8 });
    await writeSequence(cached, result);
    writeFileSync(`${cached}.json`, JSON.stringify(result.flicker));
    report(key, result.flicker, t);
    rows.push({ label: `${method}, ${coherent ? 'coherent' : 'independent'}`, cells: result.frames.slice(0, shown).map(cell) });
  }
}

function report(key: string, f: FlickerStats, t: number): void {
  console.log(
    `${key.padEnd(20)} flicker ${f.ratio.toFixed(3)} (output ${f.output.toFixed(4)}, input ${f.input.toFixed(4)}); along the motion ${f.warpedOutput.toFixed(4)} (input ${f.warpedInput.toFixed(4)}); drift ${f.drift.toFixed(3)} (SSIM per frame ${f.structure.map((v) => v.toFixed(2)).join(' ')}); ${((performance.now() - t) / 1000).toFixed(0)} s`,
  );
  json[`${key}_flicker`] = Number(f.ratio.toFixed(4));
  json[`${key}_warped_change`] = Number(f.warpedOutput.toFixed(4));
  json[`${key}_drift`] = Number(f.drift.toFixed(4));
  json.input_change = Number(f.input.toFixed(4));
  json.input_warped_change = Number(f.warpedInput.toFixed(4));
}
const out = values.out ?? 'docs/style-sequence.png';
await writeLabelledGrid(out, rows, { cell: size, columnLabels: frames.slice(0, shown).map((_, k) => `frame ${k + 1}`), labelWidth: 190 });
json.seconds = Math.round((performance.now() - started) / 1000);
console.error(`wrote ${out}`);
console.log(JSON.stringify(json));
