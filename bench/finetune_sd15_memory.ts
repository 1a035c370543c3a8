/**
 * How much activation memory one LoRA training step of the SD 1.5-shaped UNet (as bench/finetune_sd15_step.ts
 * builds it) keeps alive, without running it: forward + backward to the adapters are built in gesso's graph
 * and walked in build order, each intermediate tensor counted from the node that makes it to its last
 * use. An estimate for deciding whether a size fits in memory before starting an hour-long step (ONNX
 * Runtime orders, reuses and rounds its buffers its own way). Weights are built with zeros and not filled.
 *
 *   node --import tsx bench/finetune_sd15_memory.ts [--latent 32]
 *
 * Prints one JSON object: peak live activation MiB, where in the node order it peaks, the largest tensor,
 * and the parameters' MiB.
 */
import { parseArgs } from 'node:util';
import { gradients } from '../src/autodiff/grad.ts';
import { InputError } from '../src/core/errors.ts';
import { Rng } from '../src/core/rng.ts';
import { reachableNodes } from '../src/graph/export.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { mul, reduceMean, sub } from '../src/graph/ops/index.ts';
import { SD15_UNET } from '../src/models/fixtures/sd15-shapes.ts';
import { UNet2DCondition } from '../src/models/unet2d-condition.ts';
import { attachLora, findLinears, freezeAll, UNET_ATTENTION_TARGETS } from '../src/train/finetune/lora-attach.ts';

const MIB = 2 ** 20;

function bytesOf(t: Tensor): number {
  return t.size * (t.dtype === 'int64' || t.dtype === 'float64' ? 8 : t.dtype === 'float32' || t.dtype === 'int32' ? 4 : 1);
}

/** Peak bytes of intermediates alive at once when `nodes` run in order and `keep` (the outputs) stay. */
function peakLive(nodes: readonly Graph['nodes'][number][], keep: ReadonlySet<Tensor>): { peak: number; at: number; largest: number } {
  const lastUse = new Map<Tensor, number>();
  nodes.forEach((n, i) => {
    for (const t of n.inputs) if (t?.node) lastUse.set(t, i);
  });
  const freedAt: Tensor[][] = nodes.map(() => []);
  for (const [t, i] of lastUse) freedAt[i]?.push(t);
  let live = 0;
  let peak = 0;
  let at = 0;
  let largest = 0;
  nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      live += bytesOf(o);
      largest = Math.max(largest, bytesOf(o));
    }
    if (live > peak) [peak, at] = [live, i];
    for (const t of freedAt[i] ?? []) if (!keep.has(t)) live -= bytesOf(t);
    for (const o of n.outputs) if (!lastUse.has(o) && !keep.has(o)) live -= bytesOf(o);
  });
  return { peak, at, largest };
}

function main(): void {
  const { values } = parseArgs({ options: { latent: { type: 'string', default: '32' } } });
  const latent = Number(values.latent);
  if (!Number.isInteger(latent) || latent < 8 || latent % 8 !== 0) throw new InputError(`--latent ${values.latent}: expected a multiple of 8`);
  const g = new Graph();
  const c = SD15_UNET;
  const unet = new UNet2DCondition(g, c, new Rng(0), 'zeros');
  freezeAll(g);
  attachLora(
    g,
    'unet',
    findLinears(unet).filter((l) => UNET_ATTENTION_TARGETS.test(l.name)),
    { rank: 4, alpha: 4, seed: 1 },
  );
  const noisy = g.input('noisy', [1, c.in_channels, latent, latent]); // (1, 4, h, w)
  const ts = g.input('t', [1], 'int64');
  const context = g.input('context', [1, 77, c.cross_attention_dim]); // (1, 77, 768)
  const target = g.input('target', [1, c.out_channels, latent, latent]);
  const d = sub(unet.forward(noisy, ts, context), target);
  const loss = reduceMean(mul(d, d));
  const grads = gradients(
    loss,
    g.trainableParams().map((p) => p.tensor),
  ).filter((t): t is Tensor => t !== null && t !== undefined);
  const nodes = reachableNodes([loss, ...grads]);
  const { peak, at, largest } = peakLive(nodes, new Set([loss, ...grads]));
  const paramBytes = [...g.params.values()].reduce((a, p) => a + 4 * p.tensor.size, 0);
  console.log(
    JSON.stringify({
      latent,
      pixels: latent * 8,
      nodes: nodes.length,
      peak_live_activation_mib: Math.round(peak / MIB),
      peak_at_node: at,
      largest_tensor_mib: Math.round(largest / MIB),
      param_mib: Math.round(paramBytes / MIB),
    }),
  );
}

main();
