/**
 * The `train` job: one leg of a training run (src/server/training/train-runs.ts), run in a child process
 * (training/train-process.ts) so the server stays responsive and a stop is immediate and safe (the process
 * is killed, and the job ends once it is gone; the run folder's last checkpoint is where the next leg resumes). While it runs, the job reads the loss lines and sample grids
 * the trainer writes and reports them as progress: step, ETA, the newest losses (`metrics`) and the
 * newest sample grid's step (`sample`). A finished fast-style run is installed as a model folder.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fork } from 'node:child_process';
import { GessoError, InputError } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/json.ts';
import { GenerationCancelled } from '../../pipelines/denoise.ts';
import { reviveError } from '../../runtime/worker-protocol.ts';
import type { JobContext, JobHandler } from '../queue/types.ts';
import { TRAIN_TYPES, type TrainProcessInit, type TrainProcessReply, type TrainType } from '../training/train-protocol.ts';
import { readHistory, sampleGrids } from '../training/train-runs.ts';

const ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('../training/train-process-boot.mjs', import.meta.url)
  : new URL('../training/train-process.js', import.meta.url);

/** How often the run folder is read for new loss lines and samples. */
export const TRAIN_POLL_MS = 500;

export interface TrainPayload {
  type: TrainType;
  runDir: string;
  /** Total steps of the run (for progress). */
  steps: number;
  /** The trainer's options (paths are the server's; a job's payload never reaches a client). */
  options: JsonObject;
  /** style: install the finished network here (a model folder), with this model card. */
  installDir?: string;
  card?: string;
  /** finetune: install the finished LoRA file here (a LoRA folder's `<name>.safetensors`). */
  installLora?: string;
}

export const trainHandler: JobHandler = async (job, context) => {
  const p = job.payload as unknown as TrainPayload;
  if (!TRAIN_TYPES.includes(p.type)) throw new InputError(`training type ${JSON.stringify(p.type)} is not one of ${TRAIN_TYPES.join(', ')}`);
  const init: TrainProcessInit = { type: p.type, runDir: p.runDir, options: p.options };
  const result = await runProcess(init, p, context);
  if (p.type === 'style' && result.finished && p.installDir) installStyleModel(p.runDir, p.installDir, p.card ?? '');
  if (p.type === 'finetune' && result.finished && p.installLora) installLora(join(p.runDir, basename(p.installLora)), p.installLora);
  const output: JsonValue = { type: p.type, steps: result.steps, finished: result.finished };
  return output;
};

function runProcess(init: TrainProcessInit, p: TrainPayload, context: JobContext): Promise<{ steps: number; finished: boolean }> {
  // Its own process: stdout/stderr go to the server's (the trainers are quiet), messages over IPC.
  const child = fork(ENTRY, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  child.send(init);
  const started = performance.now();
  let offset = 0;
  let firstStep: number | null = null;
  let last: Record<string, number> | null = null;
  const report = (): void => {
    const read = readHistory(p.runDir, p.type, offset);
    offset = read.offset;
    const newest = read.points.at(-1);
    if (newest) last = newest;
    if (!last) return;
    const step = last.step as number;
    firstStep ??= step;
    const perStep = (performance.now() - started) / Math.max(1, step - firstStep + 1);
    const { step: _s, ...metrics } = last;
    const sample = sampleGrids(p.runDir).at(-1)?.step;
    context.progress({ step, steps: p.steps, etaMs: Math.round(perStep * Math.max(0, p.steps - step)), metrics, ...(sample !== undefined ? { sample } : {}) });
  };
  const timer = setInterval(report, TRAIN_POLL_MS);
  return new Promise((resolve, reject) => {
    // How the leg ends is decided by the first of: the process's done/failed message, a stop, the process
    // ending without a word. The job settles only once the process is gone ('close': exited, IPC drained),
    // so a resumed leg never starts beside a dying one and a stopped run's folder is quiet.
    let outcome: (() => void) | null = null;
    let gone = false;
    const decide = (fn: () => void): void => {
      if (outcome) return;
      outcome = fn;
      clearInterval(timer);
      context.signal.removeEventListener('abort', onAbort);
      report();
      if (gone) fn();
    };
    const onAbort = (): void => {
      decide(() => reject(new GenerationCancelled('training stopped; resume continues from the last checkpoint')));
      child.kill('SIGKILL');
    };
    context.signal.addEventListener('abort', onAbort);
    if (context.signal.aborted) onAbort();
    child.on('message', (m: TrainProcessReply) => {
      if (m.kind === 'done') decide(() => resolve({ steps: m.steps, finished: m.finished }));
      else if (m.kind === 'failed') decide(() => reject(reviveError(m.error)));
    });
    child.on('error', (e) => {
      decide(() => reject(new GessoError(`the training process failed: ${e.message}`)));
      if (child.pid === undefined) onGone(); // never started: no 'close' follows
    });
    child.on('close', (code, signal) => {
      decide(() => reject(new GessoError(`the training process exited (${signal ?? `code ${code}`}) before it finished`)));
      onGone();
    });
    function onGone(): void {
      if (gone) return;
      gone = true;
      outcome?.();
    }
  });
}

/** Copies a LoRA run's file into a LoRA folder (atomically: the file appears whole, or not at all). */
function installLora(file: string, target: string): void {
  if (!existsSync(file)) throw new GessoError(`the LoRA run finished without ${file}`);
  if (existsSync(target)) throw new InputError(`a LoRA named ${basename(target, '.safetensors')} already exists`);
  mkdirSync(dirname(target), { recursive: true });
  const staging = `${target}.${process.pid}.tmp`;
  copyFileSync(file, staging);
  renameSync(staging, target);
}

/** Copies a fast-style run's network into a model folder with its card (atomically: the folder appears whole). */
function installStyleModel(runDir: string, installDir: string, card: string): void {
  const onnx = join(runDir, 'style.onnx');
  if (!existsSync(onnx)) throw new GessoError(`the style run finished without ${onnx}`);
  const staging = `${installDir}.${process.pid}.tmp`;
  mkdirSync(staging, { recursive: true });
  copyFileSync(onnx, join(staging, 'style.onnx'));
  writeFileSync(join(staging, 'README.md'), card);
  if (existsSync(installDir)) throw new InputError(`a model named ${installDir.split('/').at(-1)} already exists`);
  renameSync(staging, installDir);
}
