/**
 * The GAN training step of `gesso train gan` timed in gesso and in its PyTorch peer
 * (bench/peers/torch_gan.py, the same architecture with the same parameter counts, checked):
 * shared by `npm run bench:gan` and `npm run bench:engine`.
 */
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/core/rng.ts';
import { ganConfig } from '../../src/models/gan.ts';
import type { HostTensor } from '../../src/runtime/tensor.ts';
import { sampleAugment } from '../../src/train/gan/diff-augment.ts';
import { buildGanTrainStep, GAN_DEFAULTS } from '../../src/train/gan/train-gan.ts';
import { TrainSession } from '../../src/train/train-session.ts';
import { runJsonChild } from './child.ts';
import { TORCH_UNSET_ENV, torchPython } from './peers.ts';
import { median } from './rounds.ts';

export const GAN_BATCH = 64;
export const GAN_SIZE = 64;

/** Round medians of wall-clock and CPU ms per step (CPU: every thread of this process). */
export interface StepRounds {
  wall: number[];
  cpu: number[];
}

/** gesso's side: the one-graph GAN training step, loaded once, timed before and after `between` (the peer). */
export class GessoGanStep {
  private constructor(
    private readonly session: TrainSession,
    private readonly feeds: Record<string, HostTensor>,
    readonly paramsG: number,
    readonly paramsD: number,
  ) {}

  static async create(threads: number): Promise<GessoGanStep> {
    const config = ganConfig(GAN_SIZE);
    const { g, spec } = buildGanTrainStep(config, GAN_BATCH, 0, 0.995, GAN_DEFAULTS.dLr / GAN_DEFAULTS.lr);
    const count = (prefix: string): number =>
      g
        .trainableParams()
        .filter((p) => p.name.startsWith(prefix))
        .reduce((s, p) => s + p.value.length, 0);
    const session = await TrainSession.create(g, spec, { inProcess: true, threads });
    const rng = new Rng(1);
    const feeds: Record<string, HostTensor> = {
      real: { dtype: 'float32', dims: [GAN_BATCH, 3, GAN_SIZE, GAN_SIZE], data: rng.uniformArray(GAN_BATCH * 3 * GAN_SIZE * GAN_SIZE, -1, 1) },
      z: { dtype: 'float32', dims: [GAN_BATCH, config.zDim], data: rng.normal(GAN_BATCH * config.zDim) },
      ...sampleAugment(rng, 'aug_real', GAN_BATCH, GAN_SIZE),
      ...sampleAugment(rng, 'aug_fake', GAN_BATCH, GAN_SIZE),
    };
    await session.step(feeds, GAN_DEFAULTS.lr); // warm-up
    return new GessoGanStep(session, feeds, count('G.'), count('D.'));
  }

  /** `rounds` rounds of `steps` steps each; per round the median step. */
  async time(rounds: number, steps: number): Promise<StepRounds> {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const times: number[] = [];
      const cpus: number[] = [];
      for (let k = 0; k < steps; k++) {
        const t = performance.now();
        const c = process.cpuUsage();
        await this.session.step(this.feeds, GAN_DEFAULTS.lr);
        const used = process.cpuUsage(c);
        times.push(performance.now() - t);
        cpus.push((used.user + used.system) / 1000);
      }
      wall.push(median(times));
      cpu.push(median(cpus));
    }
    return { wall, cpu };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export interface TorchGanResult extends StepRounds {
  torch: string;
}

/** The PyTorch peer in a child process; refuses a peer whose parameter counts differ from gesso's. */
export async function torchGanStep(opts: {
  rounds: number;
  steps: number;
  threads: number;
  paramsG: number;
  paramsD: number;
  openblasCoretype?: string;
}): Promise<TorchGanResult> {
  const script = fileURLToPath(new URL('../peers/torch_gan.py', import.meta.url));
  const args = [
    '--batch',
    String(GAN_BATCH),
    '--size',
    String(GAN_SIZE),
    '--rounds',
    String(opts.rounds),
    '--steps',
    String(opts.steps),
    '--threads',
    String(opts.threads),
  ];
  const torch = (await runJsonChild(torchPython(), [script, ...args], 'torch gan peer', {
    unsetEnv: TORCH_UNSET_ENV,
    ...(opts.openblasCoretype ? { setEnv: { OPENBLAS_CORETYPE: opts.openblasCoretype } } : {}),
    timeoutMs: 60 * 60 * 1000,
    echoStderr: '  ',
  })) as { ms_per_step: number[]; cpu_ms_per_step: number[]; torch: string; params_g: number; params_d: number };
  if (torch.params_g !== opts.paramsG || torch.params_d !== opts.paramsD)
    throw new Error(
      `the PyTorch GAN peer has ${torch.params_g} + ${torch.params_d} parameters, gesso ${opts.paramsG} + ${opts.paramsD}: not the same architecture`,
    );
  return { wall: torch.ms_per_step, cpu: torch.cpu_ms_per_step, torch: torch.torch };
}
