/**
 * npm run eval:style [-- --quick] [--size N] [--iterations N] [--fast FILE] [--adain DIR] [--methods adain,fast]
 *                    [--compare-adain DIR [--compare-grid FILE]]:
 * runs every style method over 3 content × 4 style images, writes docs/style-grid.png (not with --quick
 * or --methods, which scores only the methods named, e.g. a retrained network) and prints per-method
 * scores; the last line is one JSON object. See src/eval/style-eval.ts for the metrics.
 * --compare-adain scores a second AdaIN decoder in the same run (`adain_compare`; never in the docs
 * grid); --compare-grid writes the two decoders' rows one above the other.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { evalImages, runGrid, STYLE_LABELS, scoreGrid, writeGridPng } from '../src/eval/style-eval.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    size: { type: 'string' },
    iterations: { type: 'string' },
    fast: { type: 'string' },
    adain: { type: 'string' },
    methods: { type: 'string' },
    'compare-adain': { type: 'string' },
    'compare-grid': { type: 'string' },
  },
});
const size = Number(values.size ?? (values.quick ? 64 : 160));
const iterations = Number(values.iterations ?? (values.quick ? 20 : 150));
const started = performance.now();
const { contents, styles } = await evalImages(size);
const results = await runGrid(
  {
    size,
    iterations,
    cacheDir: `.cache/eval-style`,
    fastModel: values.fast ?? 'models/gesso-fast-leopard/style.onnx',
    adainModel: values.adain ?? 'models/gesso-adain-v1',
    ...(values['compare-adain'] ? { compareAdainModel: values['compare-adain'] } : {}),
    ...(values.methods ? { methods: values.methods.split(',') } : {}),
  },
  contents,
  styles,
  (s) => console.error(s),
);
const scores = await scoreGrid(results, contents, styles);
const { adain_compare: compared, ...shown } = results;
if (!values.quick && !values.methods) await writeGridPng('docs/style-grid.png', shown, contents, styles, size);
if (values['compare-grid'] && compared && results['adain']) {
  const labels = { adain: `AdaIN (${basename(values.adain ?? 'models/gesso-adain-v1')})`, adain_compare: `AdaIN (${basename(values['compare-adain'] ?? '')})` };
  await writeGridPng(values['compare-grid'], { adain_compare: compared, adain: results['adain'] }, contents, styles, size, labels);
}
for (const [k, v] of Object.entries(scores)) {
  console.log(`${k.padEnd(22)} style distance ${v.styleDistance.toFixed(3)}  SSIM ${v.ssim.toFixed(3)}  (${v.pairs} pairs)`);
  const perStyle = v.perStyle.map((p, si) => (p ? `${STYLE_LABELS[si]} ${p.styleDistance.toFixed(3)} / ${p.ssim.toFixed(3)}` : null)).filter(Boolean);
  if (perStyle.length > 1) console.log(`${''.padEnd(22)} per style (distance / SSIM): ${perStyle.join(', ')}`);
}
const json: Record<string, number | string> = { size, iterations, seconds: Math.round((performance.now() - started) / 1000) };
for (const [k, v] of Object.entries(scores)) {
  json[`${k}_style_distance`] = Number(v.styleDistance.toFixed(4));
  json[`${k}_ssim`] = Number(v.ssim.toFixed(4));
}
console.log(JSON.stringify(json));
