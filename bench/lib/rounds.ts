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

/** As timeRounds, also returning each timed round's CPU time of this process (all threads), in ms. */
export async function timeRoundsWithCpu(fn: () => unknown, opts: RoundsOptions): Promise<{ ms: number[]; cpuMs: number[] }> {
  const cpuMs: number[] = [];
  let usage = process.cpuUsage();
  const ms = await timeRounds(async () => {
    usage = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(usage);
    cpuMs.push((used.user + used.system) / 1000);
  }, opts);
  return { ms, cpuMs: cpuMs.slice(opts.warmup) };
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
