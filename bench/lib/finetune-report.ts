/** The `finetune` section of BENCHMARKS.md from the sizes measured so far (bench/finetune.ts). */
import { busyWarning, currentLoad, type machineInfo, packageVersion } from './machine.ts';

export interface SizeResult {
  latent: number;
  pixels: number;
  forwardGflop: number;
  buildS: number;
  stepBuildS: number;
  sessionS: number;
  sessionCpuS: number;
  warmupS: number;
  stepS: number;
  stepCpuS: number;
  /** Of the step's CPU time, the kernel's (page faults of fresh buffers, mostly). */
  stepSystemS: number;
  steps: number[];
  loads: number[];
  /** RSS once the session holds the weights, before any step. */
  sessionRssMiB: number;
  peakRssMiB: number;
  /** The ORT options the step ran with, as JSON. */
  sessionOptions: string;
}

export function section(machine: ReturnType<typeof machineInfo>, results: readonly SizeResult[], rounds: number, asked: readonly number[]): string {
  const allLoads = [machine.loadAverage, ...results.flatMap((r) => r.loads), currentLoad()];
  const fmt = (x: number, d = 1): string => x.toFixed(d);
  const rows = results.map(
    (r) =>
      `| ${r.pixels}×${r.pixels} (latent ${r.latent}²) | ${fmt(r.stepS)} | ${fmt(r.stepCpuS)} (${fmt(r.stepSystemS)}) | ${fmt(r.warmupS)} | ${fmt(r.forwardGflop)} | ${fmt(r.buildS)} | ${fmt(r.stepBuildS)} | ${fmt(r.sessionS)} (CPU ${fmt(r.sessionCpuS)}) | ${fmt(r.sessionRssMiB, 0)} | ${fmt(r.peakRssMiB, 0)} | ${r.loads.map((l) => fmt(l)).join(' → ')} |`,
  );
  const missing = asked.filter((l) => !results.some((r) => r.latent === l));
  const busy = busyWarning(allLoads, machine.nproc);
  return [
    '## Fine-tuning: LoRA training step of an SD 1.5-shaped UNet (`npm run bench:finetune`)',
    '',
    `Run ${machine.date} at commit ${machine.gitCommit}. Machine: ${machine.cpuModel}, nproc ${machine.nproc}, ${machine.simd}, ${machine.memoryGiB} GiB; Node ${machine.node}, onnxruntime-node ${packageVersion('onnxruntime-node')}; 2 ORT intra-op threads; nice as the caller ran it.`,
    '',
    "- What runs: gesso's UNet2DCondition at diffusers' SD 1.5 config (860M parameters, built with zeros and filled by `fastRandomWeights`), every weight frozen, rank-4 LoRA adapters on all 128 attention projections (797,184 trainable values), one training step = forward + backward to the adapters + gradient clipping + AdamW, as one ONNX graph in an in-process gesso `TrainSession`. Batch 1, a 77×768 random text context, timestep 500, random noise target.",
    `- Per size: ${rounds} timed steps after 1 warm-up step, each size in its own child process. "step" is the median wall time, "CPU" the median CPU time of the process (ORT's threads included) over the timed steps; "forward GFLOP" is the UNet forward alone (2 × multiply-accumulates of Conv/MatMul/Gemm), for scale.`,
    `- Memory: "RSS after session creation" is Node, the graph and the session holding the 3.2 GiB of frozen weights once (an in-process session reads the graph's arrays; fine-tuning's worker session is handed them); the peak adds what ORT allocates for a step's activations. ORT options as \`gesso train finetune\` sets them (FINETUNE_SESSION_OPTIONS in src/train/finetune/finetune-common.ts): ${[...new Set(results.map((r) => r.sessionOptions))].join(', ') || 'none'}. "kernel" is the system part of the step's CPU time. Peak RSS is the child's \`maxRSS\` (Node and tsx included).`,
    '- No PyTorch peer: diffusers is not importable by /usr/bin/python3 here, so there is no ratio.',
    '',
    '| pictures | step s (median) | step CPU s (kernel) | warm-up step s | forward GFLOP | graph build s | train-step build s | ORT session creation s | RSS after session creation MiB | peak RSS MiB | load average (start → after session → after each step) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    ...(missing.length > 0 ? [`- not measured in this run (still running or stopped): ${missing.map((l) => `${l * 8}²`).join(', ')}`] : []),
    ...(busy ? [`- ${busy}`] : []),
  ].join('\n');
}
