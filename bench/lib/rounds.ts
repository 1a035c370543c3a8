/** Timing helpers shared by the benchmarks: warm-up runs, timed rounds, medians. */

export interface RoundsOptions {
  /** Runs before timing starts (first-call allocation, JIT, kernel selection). */
  warmup: number;
  /** Timed runs; the report uses their median. */
  rounds: number;
}

/** Runs `fn` warmup + rounds times, one after another, and returns the timed rounds in ms. */
export async function timeRounds(fn: () => unknown, opts: RoundsOptions): Promise<number[]> {
  if (!Number.isInteger(opts.warmup) || opts.warmup < 0) throw new RangeError(`warmup ${opts.warmup} is not an integer >= 0`);
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new RangeError(`rounds ${opts.rounds} is not an integer >= 1`);
  for (let i = 0; i < opts.warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    const start = performance.now();
    await fn();
    ms.push(performance.now() - start);
  }
  return ms;
}

/** The median (mean of the middle two for an even count); medians resist one noisy round. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** GFLOP/s of `flops` done in `ms` milliseconds. */
export function gflopsPerSecond(flops: number, ms: number): number {
  return flops / (ms * 1e6);
}
