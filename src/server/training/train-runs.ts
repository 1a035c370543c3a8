/**
 * Training runs started from the studio: one folder each under `<data>/training/<run id>/`, holding
 * run.json (owner, type, dataset, settings, the jobs that ran it) and whatever the trainer writes there
 * (checkpoint, loss lines, sample grids). A run is trained by `train` jobs: stopping one cancels its job,
 * resuming queues another job on the same folder, which the trainer resumes from its last checkpoint.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import type { JsonObject } from '../../core/json.ts';
import { writeFileAtomic } from '../../weights/file-io.ts';
import { NotFoundError } from '../../studio/library.ts';
import type { TrainType } from './train-protocol.ts';

export const RUN_ID = /^run_[0-9a-f]{16}$/;

export interface TrainRun {
  id: string;
  userId: string;
  type: TrainType;
  /** The model (GAN, style) or LoRA name the run produces. */
  name: string;
  dataset: string;
  /** The settings the user chose (steps, batch, size, ...). */
  settings: JsonObject;
  createdAt: number;
  /** Jobs that trained it, oldest first. */
  jobIds: string[];
}

export interface LossPoint {
  step: number;
  /** d_loss / g_loss for a GAN, loss for the others. */
  [metric: string]: number;
}

export interface SampleGrid {
  step: number;
  /** Path inside the run folder. */
  file: string;
}

/** Points kept when a long history is sent: every k-th line, and the last. */
export const MAX_HISTORY_POINTS = 400;

export class TrainRuns {
  constructor(readonly root: string) {}

  create(run: Omit<TrainRun, 'id' | 'createdAt' | 'jobIds'>): TrainRun {
    const record: TrainRun = { ...run, id: `run_${randomBytes(8).toString('hex')}`, createdAt: Date.now(), jobIds: [] };
    mkdirSync(this.dir(record.id), { recursive: true });
    this.save(record);
    return record;
  }

  dir(id: string): string {
    if (!RUN_ID.test(id)) throw new InputError(`run id ${JSON.stringify(id)}: expected run_ and 16 hex digits`);
    return join(this.root, id);
  }

  /** The user's run (another user's run is not found either). */
  get(userId: string, id: string): TrainRun {
    const path = join(this.dir(id), 'run.json');
    if (!existsSync(path)) throw new NotFoundError(`training run ${id} not found`);
    const run = JSON.parse(readFileSync(path, 'utf8')) as TrainRun;
    if (run.userId !== userId) throw new NotFoundError(`training run ${id} not found`);
    return run;
  }

  list(userId: string): TrainRun[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root)
      .filter((n) => RUN_ID.test(n) && existsSync(join(this.root, n, 'run.json')))
      .map((n) => JSON.parse(readFileSync(join(this.root, n, 'run.json'), 'utf8')) as TrainRun)
      .filter((r) => r.userId === userId)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  addJob(run: TrainRun, jobId: string): TrainRun {
    const next = { ...run, jobIds: [...run.jobIds, jobId] };
    this.save(next);
    return next;
  }

  /** Loss lines written so far (downsampled to at most MAX_HISTORY_POINTS). */
  history(run: TrainRun): LossPoint[] {
    const all = readHistory(this.dir(run.id), run.type).points;
    if (all.length <= MAX_HISTORY_POINTS) return all;
    const k = Math.ceil(all.length / MAX_HISTORY_POINTS);
    return all.filter((_, i) => i % k === 0 || i === all.length - 1);
  }

  samples(run: TrainRun): SampleGrid[] {
    return sampleGrids(this.dir(run.id));
  }

  sample(run: TrainRun, step: number): Uint8Array {
    const grid = this.samples(run).find((s) => s.step === step);
    if (!grid) throw new NotFoundError(`run ${run.id} has no sample grid at step ${step}`);
    return new Uint8Array(readFileSync(join(this.dir(run.id), grid.file)));
  }

  private save(run: TrainRun): void {
    const path = join(this.dir(run.id), 'run.json');
    writeFileAtomic(path, JSON.stringify(run, null, 2));
  }
}

/** The loss-line file each trainer appends to. */
export function historyFile(runDir: string, type: TrainType): string {
  return join(runDir, type === 'style' ? 'log.jsonl' : 'history.jsonl');
}

const NOT_METRICS = new Set(['step', 'seconds', 'lr']);

/** Parses loss lines from `offset` bytes on; a half-written last line is left for the next read. */
export function readHistory(runDir: string, type: TrainType, offset = 0): { points: LossPoint[]; offset: number } {
  const path = historyFile(runDir, type);
  if (!existsSync(path)) return { points: [], offset };
  const bytes = readFileSync(path);
  const end = bytes.lastIndexOf(0x0a) + 1;
  if (end <= offset) return { points: [], offset };
  const points: LossPoint[] = [];
  for (const line of bytes.subarray(offset, end).toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const row = JSON.parse(line) as Record<string, unknown>;
      if (typeof row.step !== 'number') continue;
      const point: LossPoint = { step: row.step };
      for (const [k, v] of Object.entries(row)) if (!NOT_METRICS.has(k) && typeof v === 'number' && Number.isFinite(v)) point[k] = v;
      points.push(point);
    } catch {
      // a line cut by a killed run: skipped
    }
  }
  return { points, offset: end };
}

const SAMPLE_FILE = /^(?:step-?|sample-)(\d{1,9})(?:-base)?\.png$/;

/** Sample grids the trainers wrote (GAN: samples/step-N.png, style: sample-N.png, LoRA: samples/stepN.png), by step. */
export function sampleGrids(runDir: string): SampleGrid[] {
  const out = new Map<number, string>();
  for (const sub of ['', 'samples']) {
    const dir = join(runDir, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const m = SAMPLE_FILE.exec(name);
      if (m) out.set(Number(m[1]), sub ? `${sub}/${name}` : name);
    }
  }
  return [...out].map(([step, file]) => ({ step, file })).sort((a, b) => a.step - b.step);
}
