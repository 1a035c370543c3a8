/**
 * An ONNX Runtime session in a worker thread, so the event loop stays free while a model runs
 * (ORT's `run()` blocks the thread that calls it). Same `Runner` API as the in-process `Session`.
 *
 * Calls are queued here and sent to the worker one at a time, so a queued run can still be aborted
 * (RunOptions.signal) and state changes apply in call order. A started run cannot be stopped inside
 * ORT: `release()` rejects it at once, but the worker ends only when ORT returns. Never
 * `worker.terminate()` during a run: onnxruntime-node 1.30 then throws a C++ exception from the
 * native run and aborts the whole process ("terminate called after throwing an instance of
 * 'Napi::Error'"). For the same reason, avoid `process.exit()` while a run is in progress.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { GessoError, InputError } from '../core/errors.ts';
import { modelLabel, type RunOptions, type Runner, type SessionOptions, type SetStateOptions, type ValueInfo } from './runner.ts';
import { SerialQueue } from './serial-queue.ts';
import { cloneTensor, type HostTensor } from './tensor.ts';
import { checkTensor, normalizeRunOptions, planRun } from './validate.ts';
import {
  reviveError,
  transferables,
  type CloseRequest,
  type WorkerInit,
  type WorkerReply,
  type WorkerRequest,
} from './worker-protocol.ts';

// Compiled (dist/*.js): the worker body runs as it is. From sources (tests, development under tsx):
// a boot file registers tsx inside the worker first, since workers do not inherit a loader registered in code.
const BOOT = import.meta.url.endsWith('.ts')
  ? new URL('./session-worker-boot.mjs', import.meta.url)
  : new URL('./session-worker.js', import.meta.url);

/** Omit applied to each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request before its id is assigned. */
type Request = DistributiveOmit<WorkerRequest, 'id'>;

interface Pending {
  resolve: (value: Record<string, HostTensor> | null) => void;
  reject: (e: Error) => void;
}

export class WorkerSession implements Runner {
  private readonly queue = new SerialQueue();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Inputs that hold state once every queued call has run; lets run() report a missing input at once. */
  private readonly held = new Set<string>();
  private readonly inputByName: Map<string, ValueInfo>;
  private ended: Error | null = null;
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    readonly name: string,
    readonly inputs: readonly ValueInfo[],
    readonly outputs: readonly ValueInfo[],
  ) {
    this.inputByName = new Map(inputs.map((i) => [i.name, i]));
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', (e) => this.end(new GessoError(`${name}: the session worker failed: ${e.message}`)));
    worker.on('exit', (code) => {
      this.exited = true;
      this.end(new GessoError(`${name}: the session worker exited (code ${code})`));
    });
    // An idle worker must not keep the process alive; it is ref'd only while a reply is awaited.
    worker.unref();
  }

  /** Starts a worker and loads a model in it, from a file path or ONNX bytes (copied to the worker). */
  static async create(model: string | Uint8Array, options: SessionOptions = {}): Promise<WorkerSession> {
    const init: WorkerInit = { model, options: { ...options, name: options.name ?? modelLabel(model) } };
    const worker = new Worker(BOOT, { workerData: init });
    const ready = await new Promise<Extract<WorkerReply, { kind: 'ready' }>>((resolve, reject) => {
      const onExit = (code: number): void => reject(new GessoError(`session worker for ${init.options.name} exited (code ${code}) while loading`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (reply: WorkerReply) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (reply.kind === 'ready') resolve(reply);
        else if (reply.kind === 'failed') reject(reviveError(reply.error));
        else reject(new GessoError(`session worker sent ${reply.kind} before it was ready`));
      });
    }).catch(async (e: unknown) => {
      await worker.terminate();
      throw e;
    });
    return new WorkerSession(worker, ready.name, ready.inputs, ready.outputs);
  }

  run(feeds: Record<string, HostTensor>, options?: string[] | RunOptions): Promise<Record<string, HostTensor>> {
    const opts = normalizeRunOptions(options);
    let sent: Record<string, HostTensor>;
    try {
      // Checked here too, so a bad call fails before any buffer is moved to the worker.
      const plan = planRun(this.name, this.inputs, this.outputs, feeds, this.held, opts);
      for (const [, inName] of plan.carry) this.held.add(inName);
      // Copy now unless the caller gives the buffers up: the run may start later, after the caller
      // has reused its arrays. The copies are then moved, so each value is copied once either way.
      sent = opts.transfer ? feeds : mapTensors(feeds, cloneTensor);
    } catch (e) {
      return Promise.reject(e);
    }
    const request: Request = { kind: 'run', feeds: sent, fetch: opts.fetch, carry: opts.carry };
    return this.queue.push(async () => (await this.send(request, Object.values(sent))) ?? {}, opts.signal);
  }

  setState(tensors: Record<string, HostTensor>, options: SetStateOptions = {}): Promise<void> {
    let sent: Record<string, HostTensor>;
    try {
      for (const [name, t] of Object.entries(tensors)) {
        const info = this.inputByName.get(name);
        if (info === undefined) {
          throw new InputError(`${this.name}: cannot hold state for unknown input "${name}"; the model's inputs are ${this.inputs.map((i) => i.name).join(', ')}`);
        }
        checkTensor(this.name, 'state', info, t);
      }
      sent = options.transfer ? tensors : mapTensors(tensors, cloneTensor);
      for (const name of Object.keys(tensors)) this.held.add(name);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.queue.push(async () => {
      await this.send({ kind: 'setState', tensors: sent }, Object.values(sent));
    });
  }

  getState(names?: string[]): Promise<Record<string, HostTensor>> {
    return this.queue.push(async () => (await this.send({ kind: 'getState', names }, [])) ?? {});
  }

  /**
   * Rejects every pending call at once and ends the worker. A run in progress cannot be interrupted
   * (see above), so the returned promise resolves when it has finished and the worker is gone.
   */
  async release(): Promise<void> {
    if (this.exited) return;
    this.end(new GessoError(`${this.name}: the session was released`));
    const gone = once(this.worker, 'exit');
    // Keep the process alive until the worker ends: exiting during a run would abort the process.
    this.worker.ref();
    const close: CloseRequest = { kind: 'close' };
    this.worker.postMessage(close);
    await gone;
  }

  private send(request: Request, tensors: HostTensor[]): Promise<Record<string, HostTensor> | null> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id }, transferables(tensors));
    });
  }

  private onReply(reply: WorkerReply): void {
    if (reply.kind !== 'done' && reply.kind !== 'error') return;
    const waiting = this.pending.get(reply.id);
    if (waiting === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.kind === 'done') waiting.resolve(reply.value);
    else waiting.reject(reviveError(reply.error));
  }

  private end(reason: Error): void {
    if (this.ended) return;
    this.ended = reason;
    this.queue.close(reason);
    for (const { reject } of this.pending.values()) reject(reason);
    this.pending.clear();
  }
}

function mapTensors(
  tensors: Record<string, HostTensor>,
  f: (t: HostTensor) => HostTensor,
): Record<string, HostTensor> {
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, f(t)]));
}
