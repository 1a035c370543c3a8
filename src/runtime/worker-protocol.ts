/**
 * Messages between a WorkerSession (caller's thread) and its session worker. Tensors travel as plain
 * HostTensor objects; their ArrayBuffers go in the transfer list whenever the sender gives them up.
 */
import { GessoError, InputError, ShapeError } from '../core/errors.ts';
import type { SessionOptions, ValueInfo } from './runner.ts';
import type { HostTensor } from './tensor.ts';

export interface WorkerInit {
  model: string | Uint8Array;
  options: SessionOptions;
}

export type WorkerRequest =
  | { id: number; kind: 'run'; feeds: Record<string, HostTensor>; fetch?: string[]; carry?: Record<string, string> }
  | { id: number; kind: 'setState'; tensors: Record<string, HostTensor> }
  | { id: number; kind: 'getState'; names?: string[] };

/** Asks the worker to free its session (after any run in progress) and end. */
export interface CloseRequest {
  kind: 'close';
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export type WorkerReply =
  | { kind: 'ready'; name: string; inputs: ValueInfo[]; outputs: ValueInfo[] }
  | { kind: 'failed'; error: SerializedError }
  | { kind: 'done'; id: number; value: Record<string, HostTensor> | null }
  | { kind: 'error'; id: number; error: SerializedError };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

const ERROR_CLASSES: Record<string, new (message: string) => Error> = { GessoError, InputError, ShapeError };

/** Rebuilds an error thrown in the worker: same class (for gesso's errors), name and message. */
export function reviveError(s: SerializedError): Error {
  const Kind = ERROR_CLASSES[s.name] ?? Error;
  const e = new Kind(s.message);
  e.name = s.name;
  if (s.stack !== undefined) e.stack = `${s.stack}\n    (in the session worker)`;
  return e;
}

/**
 * The ArrayBuffers of `tensors` that can be moved without harming anything else: each typed array
 * must span its whole buffer (a view into a larger buffer, like Node's pooled Buffers, is left to
 * be copied), and shared memory cannot be transferred at all.
 */
export function transferables(tensors: Iterable<HostTensor>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const t of tensors) {
    const buffer = t.data.buffer;
    if (buffer instanceof ArrayBuffer && t.data.byteOffset === 0 && t.data.byteLength === buffer.byteLength) {
      out.add(buffer);
    }
  }
  return [...out];
}
