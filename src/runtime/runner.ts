/**
 * The one interface every model runner implements: `Session` runs ONNX Runtime in this thread,
 * `WorkerSession` in a worker thread. Both pass the same contract test (test/runtime/runner-contract.test.ts).
 */
import type { DType, HostTensor } from './tensor.ts';

/** dtypes a model may declare; gesso can feed and read only the `DType` ones. */
export type ModelDType = DType | 'uint16' | 'int16' | 'uint32' | 'uint64' | 'string' | 'uint4' | 'int4' | 'non-tensor';

/** One model input or output as the model declares it. */
export interface ValueInfo {
  name: string;
  dtype: ModelDType;
  /** Fixed dims as numbers, symbolic dims by name (`['batch', 4, 'height', 'width']`). */
  shape: (number | string)[];
}

export interface SessionOptions {
  /** Shown in error messages; defaults to the model's path, or "ONNX model (N bytes)". */
  name?: string;
  /** Threads per op; default `defaultThreads()` (the core count, or GESSO_THREADS). */
  intraOpThreads?: number;
  interOpThreads?: number;
  /**
   * Let idle ORT threads busy-wait for the next op. Off by default: on 2 cores the spinning threads
   * steal the CPU from the event loop and from each other (measurements in session.ts).
   */
  allowSpinning?: boolean;
  /**
   * ORT's `session.dynamic_block_base`: when > 0, parallel loops hand out shrinking blocks of work instead
   * of one fixed share per thread, so a thread the OS preempts holds up less of the loop.
   */
  dynamicBlockBase?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * ORT's CPU memory arena (default on): freed buffers stay in ORT's pool for reuse and are never given
   * back to the system, so the process keeps its largest run's footprint (rounded up by the arena's
   * growth) for the session's life. Off: every buffer is malloc'ed and freed, and big ones go back to the OS.
   */
  enableCpuMemArena?: boolean;
  /**
   * ORT's memory pattern (default on): after a run ORT plans one block for all of the next run's
   * intermediate buffers. With the arena on, that block comes on top of what the first run left in the arena.
   */
  enableMemPattern?: boolean;
  executionMode?: 'sequential' | 'parallel';
  /**
   * ORT's own log level, 0 (verbose) to 4 (fatal). Default 4: every error ORT would log is also thrown
   * to the caller, with the model's name, so logging it too only doubles it on stderr.
   */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

export interface RunOptions {
  /** Outputs to return; default every output that is not carried. */
  fetch?: string[];
  /** Output name -> state input name: after the run the output becomes that input's held value. */
  carry?: Record<string, string>;
  /**
   * WorkerSession only: move the feeds' ArrayBuffers to the worker instead of copying them. The caller's
   * typed arrays are then detached (length 0). Arrays that view part of a larger buffer are always copied.
   */
  transfer?: boolean;
  /** Aborting rejects the run if it has not started yet; a started run finishes (ORT cannot stop it). */
  signal?: AbortSignal;
}

export interface SetStateOptions {
  /** As RunOptions.transfer; for the in-process Session it means "keep my arrays" instead of copying them. */
  transfer?: boolean;
}

/** How errors name a model that has no explicit name: its path, or its size for bytes. */
export function modelLabel(model: string | Uint8Array): string {
  return typeof model === 'string' ? `"${model}"` : `ONNX model (${model.byteLength} bytes)`;
}

export interface Runner {
  readonly name: string;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /**
   * Runs the model once. Inputs missing from `feeds` come from the held state. Calls (run, setState,
   * getState) are queued and take effect in the order they were made. Leave the feeds' arrays alone
   * until the run resolves: the in-process Session reads them when the run starts.
   */
  run(feeds: Record<string, HostTensor>, options?: string[] | RunOptions): Promise<Record<string, HostTensor>>;
  /** Holds tensors as values for the named inputs, kept between runs (merged with any state held). */
  setState(tensors: Record<string, HostTensor>, options?: SetStateOptions): Promise<void>;
  /** Copies of the held state (all of it, or the named inputs), e.g. for a checkpoint. */
  getState(names?: string[]): Promise<Record<string, HostTensor>>;
  /** Frees the session (and ends its worker); queued calls reject. */
  release(): Promise<void>;
}
