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

/**
 * Most threads a session may be given: 4 per core. Beyond the core count threads only contend; 100,000
 * made ORT spend minutes and 6.7 GB creating thread pools without a step of progress.
 */
export function maxThreads(): number {
  return 4 * availableParallelism();
}

/** `value` (a flag or variable's text, or a number) as a thread count in [1, maxThreads()], or an InputError naming `source`. */
export function checkThreadCount(value: string | number, source: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  const max = maxThreads();
  if ((typeof value === 'string' && value.trim() === '') || !Number.isInteger(n) || n < 1 || n > max) {
    throw new InputError(
      `${source}=${JSON.stringify(String(value))}: expected a whole number of threads from 1 to ${max} (4 per core on this machine's ${availableParallelism()} cores)`,
    );
  }
  return n;
}

export function defaultThreads(env: NodeJS.ProcessEnv = process.env): ThreadConfig {
  const fromEnv = env.GESSO_THREADS;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const n = checkThreadCount(fromEnv, 'GESSO_THREADS');
    return { intraOp: n, interOp: n };
  }
  const cores = availableParallelism();
  return { intraOp: cores, interOp: cores };
}
