/**
 * node --import tsx scripts/gatys-optimizers.ts [--size N] [--iterations N]
 * Adam vs L-BFGS for Gatys style transfer on one real pair (GNOME's adwaita wallpaper, GIMP's leopard
 * pattern): the loss after each iteration, both measured by the same loss graph, with the number of
 * loss evaluations L-BFGS's line search needed. Last line: one JSON object.
 */
import { parseArgs } from 'node:util';
import { EVAL_CONTENT, EVAL_STYLES } from '../src/eval/style-eval.ts';
import { squareCrop } from '../src/style/content-set.ts';
import { defaultEncoder } from '../src/style/encoder.ts';
import { gatysLossEvaluator, gatysTransfer, type GatysOptimizer } from '../src/style/gatys.ts';
import { readGimpPattern } from '../src/style/gimp-pattern.ts';
import { loadImage } from '../src/style/load-image.ts';

const { values } = parseArgs({ options: { size: { type: 'string' }, iterations: { type: 'string' } } });
const size = Number(values.size ?? 128);
const iterations = Number(values.iterations ?? 40);
const encoder = defaultEncoder();
const content = await squareCrop(await loadImage(EVAL_CONTENT[0] as string, 'content'), size);
const styles = [{ image: readGimpPattern(EVAL_STYLES[0] as string), weight: 1 }];
const json: Record<string, number> = { size, iterations };
const evaluator = await gatysLossEvaluator(encoder, content, styles);
json['start_loss'] = Number((await evaluator.evaluate(content.data)).loss.toFixed(4));
for (const optimizer of ['adam', 'lbfgs'] as GatysOptimizer[]) {
  const losses: number[] = [];
  const t = performance.now();
  const image = await gatysTransfer(encoder, content, styles, { iterations, optimizer, scales: [1], onIteration: (_, __, l) => losses.push(l.loss) });
  const seconds = (performance.now() - t) / 1000;
  const final = (await evaluator.evaluate(image.data)).loss;
  const at = (k: number): string => (losses[k - 1] ?? NaN).toFixed(3);
  console.log(`${optimizer.padEnd(6)} loss at 5/10/20/${iterations}: ${at(5)} ${at(10)} ${at(20)} ${final.toFixed(3)}; ${seconds.toFixed(0)} s`);
  json[`${optimizer}_loss_10`] = Number(at(10));
  json[`${optimizer}_loss_final`] = Number(final.toFixed(4));
  json[`${optimizer}_seconds`] = Math.round(seconds);
}
await evaluator.release();
console.log(JSON.stringify(json));
