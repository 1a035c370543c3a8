/**
 * An ONNX Runtime session in this thread. `run()` blocks the event loop while ORT computes (ORT's node
 * binding runs synchronously inside a setImmediate), so a process that serves requests should use
 * `WorkerSession` instead; both implement `Runner`.
 *
 * Held state lives here as ort.Tensor objects: a carried output is stored as-is and fed straight back
 * on the next run, with no copy and no conversion.
 *
 * Thread spinning (SessionOptions.allowSpinning) is off by default. bench/runtime.ts, two 64->64 3x3
 * convs on 8x64x64, 2 intra-op threads, on the 2-core dev machine under load from other jobs
 * (load average 5-11, so absolute times are inflated; variants alternate within each round):
 *   in-process  off 104 / 151 / 171 ms per run, on  86 / 154 / 191 ms   (CPU per run: off 47-57, on 55-61 ms)
 *   worker      off 154 /  99 / 217 ms per run, on 205 / 129 / 232 ms   (CPU per run: off 49-57, on 66-74 ms)
 *   main-thread timer lateness beside a worker run: off 1.7-6.6 ms mean, on 4.7-11.5 ms mean
 * Spinning burns 15-35% more CPU for no reliable speed-up, and slows the worker case and the event
 * loop beside it; it only ever won one in-process round.
 *
 * Issue 9, bench/engine_session_ab.ts on the reference conv net (bench:engine's workload), 2 threads,
 * load average 10-21 from other jobs, wall / CPU ms per run (medians, variants alternating):
 *   training step   sequential 964 / 423, + spinning 1388 / 632; parallel 2 inter x 2 intra 1066 / 625,
 *                   2x1 1505 / 719 (spinning on: 2483 / 1129, 1746 / 792); batch split in 2 independent
 *                   halves + parallel 2x1: 1891 / 721 (ORT's parallel executor costs more CPU than the
 *                   concurrency gives back); dynamic_block_base 1/2/4: no consistent change (better in
 *                   one run, worse in the next); 1 thread 700-776 / 331-390 (on a loaded machine the
 *                   second thread gains little wall time and costs ~20% more CPU).
 *   inference       sequential 184 / 75, + spinning 267 / 115, parallel 2x2 314 / 144, 1x2 372 / 153.
 * On an idle machine (2026-12-02, other jobs paused, after the dW rework): sequential 231 / 389, + spinning
 * 212 / 416, 3 threads 225 / 393; parallel 2x2 411 / 784, 1x2 409 / 797 against sequential 281 / 477 in
 * another run. Spinning gains 8% wall for 7% more CPU when nothing else runs and loses ~40% under load.
 * So both training and inference keep sequential execution without spinning. 4 intra-op threads on
 * the 2 cores ran the step at 421-542 ms at load 14: more runnable threads take a bigger share of a busy
 * CPU from the other processes, at ~10% more CPU. At load 3.2 they lose (step 274 / 423 against 241 /
 * 377, inference 40.7 / 73.6 against 39.1 / 70.0), so the default stays one thread per core.
 */
import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { GessoError, InputError } from '../core/errors.ts';
import { modelLabel, type RunOptions, type Runner, type SessionOptions, type SetStateOptions, type ValueInfo } from './runner.ts';
import { SerialQueue } from './serial-queue.ts';
import { cloneTensor, type HostTensor } from './tensor.ts';
import { fromOrt, ortSessionOptions, toOrt, valueInfos } from './ort-values.ts';
import { checkTensor, normalizeRunOptions, planRun, type RunPlan } from './validate.ts';

export class Session implements Runner {
  private readonly state = new Map<string, ort.Tensor>();
  private readonly queue = new SerialQueue();
  private readonly inputByName: Map<string, ValueInfo>;

  private constructor(
    readonly name: string,
    private readonly session: ort.InferenceSession,
    readonly inputs: readonly ValueInfo[],
    readonly outputs: readonly ValueInfo[],
  ) {
    this.inputByName = new Map(inputs.map((i) => [i.name, i]));
  }

  /** Loads a model from a file path or from ONNX bytes. */
  static async create(model: string | Uint8Array, options: SessionOptions = {}): Promise<Session> {
    const name = options.name ?? modelLabel(model);
    const session = await loadOrtSession(model, name, options);
    return new Session(name, session, valueInfos(session.inputMetadata), valueInfos(session.outputMetadata));
  }

  run(feeds: Record<string, HostTensor>, options?: string[] | RunOptions): Promise<Record<string, HostTensor>> {
    const opts = normalizeRunOptions(options);
    return this.queue.push(() => {
      const plan = planRun(this.name, this.inputs, this.outputs, feeds, new Set(this.state.keys()), opts);
      return this.runPlanned(feeds, plan);
    }, opts.signal);
  }

  private async runPlanned(feeds: Record<string, HostTensor>, plan: RunPlan): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const { name } of this.inputs) {
      const fed = feeds[name];
      ortFeeds[name] = fed !== undefined ? toOrt(fed) : (this.state.get(name) as ort.Tensor);
    }
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run(ortFeeds, plan.ortFetch);
    } catch (e) {
      throw new GessoError(`${this.name}: ONNX Runtime failed: ${(e as Error).message}`);
    }
    // Check every carried output before keeping any, so a failed run leaves the state as it was.
    for (const [outName, inName] of plan.carry) {
      const info = this.inputByName.get(inName) as ValueInfo;
      checkTensor(this.name, `carry "${outName}" -> state`, info, fromOrt(out[outName] as ort.Tensor, `output "${outName}"`));
    }
    for (const [outName, inName] of plan.carry) this.state.set(inName, out[outName] as ort.Tensor);
    const carried = new Set(plan.carry.map(([o]) => o));
    const result: Record<string, HostTensor> = {};
    for (const name of plan.fetch) {
      const host = fromOrt(out[name] as ort.Tensor, `${this.name}: output "${name}"`);
      // A carried output is now state: the caller gets a copy it may change freely.
      result[name] = carried.has(name) ? cloneTensor(host) : host;
    }
    return result;
  }

  setState(tensors: Record<string, HostTensor>, options: SetStateOptions = {}): Promise<void> {
    const entries = Object.entries(tensors);
    return this.queue.push(async () => {
      for (const [name, t] of entries) {
        const info = this.inputByName.get(name);
        if (info === undefined) {
          throw new InputError(
            `${this.name}: cannot hold state for unknown input "${name}"; the model's inputs are ${this.inputs.map((i) => i.name).join(', ')}`,
          );
        }
        checkTensor(this.name, 'state', info, t);
      }
      for (const [name, t] of entries) this.state.set(name, toOrt(options.transfer ? t : cloneTensor(t)));
    });
  }

  getState(names?: string[]): Promise<Record<string, HostTensor>> {
    return this.queue.push(async () => {
      const wanted = names ?? [...this.state.keys()];
      const result: Record<string, HostTensor> = {};
      for (const name of wanted) {
        const held = this.state.get(name);
        if (held === undefined) {
          throw new InputError(`${this.name}: no state held for "${name}"; held: ${[...this.state.keys()].join(', ') || 'nothing'}`);
        }
        result[name] = cloneTensor(fromOrt(held, `state "${name}"`));
      }
      return result;
    });
  }

  async release(): Promise<void> {
    this.queue.close(new GessoError(`${this.name}: the session was released`));
    await this.queue.drain();
    this.state.clear();
    await this.session.release();
  }
}

async function loadOrtSession(model: string | Uint8Array, name: string, options: SessionOptions): Promise<ort.InferenceSession> {
  // A file is always named by its path, whatever display name the caller chose.
  const label = typeof model === 'string' ? `"${model}"` : name;
  if (typeof model === 'string' && !existsSync(model)) throw new InputError(`ONNX model file ${label} does not exist`);
  const ortOptions = ortSessionOptions(options);
  try {
    // ORT's overloads take a path or bytes, not the union.
    return typeof model === 'string' ? await ort.InferenceSession.create(model, ortOptions) : await ort.InferenceSession.create(model, ortOptions);
  } catch (e) {
    throw new InputError(`could not load ONNX model ${label}: ${(e as Error).message}`);
  }
}
