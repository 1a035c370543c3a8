/**
 * How many threads ONNX Runtime may use. One intra-op thread per core is ORT's own default and the
 * fastest for a single session; more than the core count only adds contention. `GESSO_THREADS`
 * overrides it (e.g. `GESSO_THREADS=1` when several sessions run at once on a small machine).
 */
import { availableParallelism } from 'node:os';
import { InputError } from '../core/errors.ts';

export interface ThreadConfig {
  /** Threads that split one op (a MatMul, a Conv) between them. */
  intraOp: number;
  /**
   * Threads that run independent ops at once; ORT uses them only in 'parallel' execution mode,
   * where they share the same cores with the intra-op threads.
   */
  interOp: number;
}

export function defaultThreads(env: NodeJS.ProcessEnv = process.env): ThreadConfig {
  const fromEnv = env.GESSO_THREADS;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) {
      throw new InputError(`GESSO_THREADS="${fromEnv}": expected a whole number of threads, 1 or more`);
    }
    return { intraOp: n, interOp: n };
  }
  const cores = availableParallelism();
  return { intraOp: cores, interOp: cores };
}
