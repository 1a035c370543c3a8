/**
 * The training loop: batches by step number (so a resumed run sees the same batches), a learning
 * rate schedule, a progress bar, periodic checkpoints and sample hooks, and a hard stop on NaN/Inf.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { removeStaleTemps } from '../core/output-file.ts';
import { keepHistoryUpTo } from './history-file.ts';
import type { HostTensor } from '../runtime/tensor.ts';
import type { LrSchedule } from './lr-schedule.ts';
import { ProgressBar } from './progress.ts';
import { TrainingDivergedError, type StepResult, type TrainSession } from './train-session.ts';

export interface TrainLoopOptions {
  session: TrainSession;
  /** The batch for a 1-based step number; a pure function of the step makes resume exact. */
  batch: (step: number) => Record<string, HostTensor> | Promise<Record<string, HostTensor>>;
  /** Train until this many steps in total have been taken. */
  steps: number;
  lr: LrSchedule;
  /** Checkpoints every `every` steps; `metadata` (or a function giving it at save time) goes into the file. */
  checkpoint?: { path: string; every: number; metadata?: Record<string, string> | (() => Record<string, string>) };
  /** Called every `every` steps and after the last one (e.g. to write a sample grid). */
  sample?: { every: number; run: (step: number) => Promise<void> };
  /** The loss-line file onStep appends to: lines past the step the run resumes from (0 without a checkpoint) are dropped. */
  history?: string;
  /** Called after every step (loss curves, logs). */
  onStep?: (result: StepResult, lr: number) => void;
  label?: string;
  /** Metrics shown (smoothed) in the progress bar beside the loss, e.g. both players' losses of a GAN. */
  showMetrics?: string[];
  /** No progress bar (tests). */
  quiet?: boolean;
  /** Resume from the checkpoint file if it exists. */
  resume?: boolean;
}

export interface TrainLoopResult {
  results: StepResult[];
  resumedFrom: number;
}

export async function trainLoop(o: TrainLoopOptions): Promise<TrainLoopResult> {
  const { session } = o;
  let resumedFrom = 0;
  if (o.checkpoint) {
    // Temp files of a run killed mid-write (a 9 MB `.unet.safetensors.<pid>.<hex>.tmp`, a `.snapshot.*.tmp/`).
    const removed = removeStaleTemps(dirname(o.checkpoint.path));
    if (removed.length > 0 && !o.quiet) console.error(`removed ${removed.length} temp file(s) left by an interrupted run: ${removed.join(', ')}`);
  }
  if (o.resume && o.checkpoint && existsSync(o.checkpoint.path)) {
    await session.load(o.checkpoint.path);
    resumedFrom = session.stepCount;
  }
  // Steps an interrupted run took past its last checkpoint (all, if it was stopped before the first) are taken again.
  if (o.history) keepHistoryUpTo(o.history, resumedFrom);
  const bar = o.quiet ? null : new ProgressBar({ total: o.steps, label: o.label ?? 'train', unit: 'step' });
  const results: StepResult[] = [];
  let lastSaved = resumedFrom;
  let smoothed = Number.NaN;
  const smoothedMetrics: Record<string, number> = {};
  while (session.stepCount < o.steps) {
    const step = session.stepCount + 1;
    const lr = o.lr(step);
    const result = await session.step(await o.batch(step), lr);
    if (!Number.isFinite(result.loss) || !Number.isFinite(result.gradNorm)) {
      const kept =
        o.checkpoint && lastSaved > 0 ? `; the last good checkpoint (step ${lastSaved}) is kept at ${o.checkpoint.path}` : '; no checkpoint was written yet';
      throw new TrainingDivergedError(`training diverged at step ${step}: loss ${result.loss}, gradient norm ${result.gradNorm} (learning rate ${lr})${kept}`);
    }
    results.push(result);
    o.onStep?.(result, lr);
    smoothed = Number.isNaN(smoothed) ? result.loss : 0.9 * smoothed + 0.1 * result.loss;
    for (const name of o.showMetrics ?? []) {
      const v = result.metrics[name] ?? Number.NaN;
      const old = smoothedMetrics[name];
      smoothedMetrics[name] = old === undefined || Number.isNaN(old) ? v : 0.9 * old + 0.1 * v;
    }
    bar?.update(step, o.showMetrics ? { ...smoothedMetrics, lr } : { loss: smoothed, lr });
    if (o.checkpoint && (step % o.checkpoint.every === 0 || step === o.steps)) {
      const m = o.checkpoint.metadata;
      await session.save(o.checkpoint.path, typeof m === 'function' ? m() : m);
      lastSaved = step;
    }
    if (o.sample && (step % o.sample.every === 0 || step === o.steps)) await o.sample.run(step);
  }
  return { results, resumedFrom };
}
