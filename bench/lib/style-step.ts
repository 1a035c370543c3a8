/**
 * The style network's training step (`gesso train style`: the fast network, batch 4 at 256×256, with
 * its perceptual losses through the default encoder) and its PyTorch peer (bench/peers/torch_style.py,
 * the same networks): shared by `npm run bench:style` and `npm run bench:engine`.
 */
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/core/rng.ts';
import type { Graph } from '../../src/graph/graph.ts';
import type { TrainStep } from '../../src/autodiff/train-step.ts';
import type { HostTensor } from '../../src/runtime/tensor.ts';
import { defaultEncoder } from '../../src/style/encoder.ts';
import { extractFeatures } from '../../src/style/features.ts';
import { FAST_NET_DEFAULT, type FastNetConfig } from '../../src/style/fast-net.ts';
import { buildFastTrainStep } from '../../src/style/train-fast.ts';
import { runJsonChild } from './child.ts';
import { TORCH_UNSET_ENV, torchPython } from './peers.ts';

export const STYLE_TRAIN_WORKLOAD = 'fast_train_b4_256';
const BATCH = 4;
const SIZE = 256;

/** The training-step graph of the fast style network (`net`, default FAST_NET_DEFAULT) and one batch of content images for it. */
export async function fastTrainSetup(net: FastNetConfig = FAST_NET_DEFAULT): Promise<{ g: Graph; step: TrainStep; feeds: Record<string, HostTensor> }> {
  const encoder = defaultEncoder();
  const style = { data: new Rng(6).uniformArray(3 * SIZE * SIZE), width: SIZE, height: SIZE };
  const targets = (await extractFeatures(encoder, style, { grams: [...encoder.defaults.style] })).grams;
  const { g, step } = buildFastTrainStep(encoder, targets, { batch: BATCH, size: SIZE, net, seed: 1, styleWeight: 30, tvWeight: 0.5 });
  const data = new Rng(7).uniformArray(BATCH * 3 * SIZE * SIZE);
  return { g, step, feeds: { content: { dtype: 'float32', dims: [BATCH, 3, SIZE, SIZE], data } } };
}

export interface TorchStyleResult {
  version: string;
  matmul_gflops: number;
  /** Median wall ms per workload. */
  ms: Record<string, number>;
  /** Median CPU ms of the peer process per workload (all threads). */
  cpu_ms?: Record<string, number>;
}

/** The PyTorch peer in a child process; `only` limits it to some workloads. */
export async function runTorchStyle(
  opts: { quick?: boolean; threads?: number; only?: string[]; rounds?: number; openblasCoretype?: string } = {},
): Promise<TorchStyleResult> {
  const script = fileURLToPath(new URL('../peers/torch_style.py', import.meta.url));
  const args = [
    ...(opts.quick ? ['--quick'] : []),
    ...(opts.threads ? ['--threads', String(opts.threads)] : []),
    ...(opts.rounds ? ['--rounds', String(opts.rounds)] : []),
    ...(opts.only ? ['--only', opts.only.join(',')] : []),
  ];
  return (await runJsonChild(torchPython(), [script, ...args], 'torch style peer', {
    unsetEnv: TORCH_UNSET_ENV,
    ...(opts.openblasCoretype ? { setEnv: { OPENBLAS_CORETYPE: opts.openblasCoretype } } : {}),
    timeoutMs: 30 * 60_000,
    echoStderr: '  ',
  })) as TorchStyleResult;
}
