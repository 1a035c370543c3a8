/** Learning-rate schedules: linear warmup, then cosine decay to `minLr` (Loshchilov & Hutter, SGDR). */
export type LrSchedule = (step: number) => number;

export function warmupCosine(opts: { lr: number; warmupSteps?: number; totalSteps: number; minLr?: number }): LrSchedule {
  const warmup = opts.warmupSteps ?? 0;
  const minLr = opts.minLr ?? 0;
  return (step: number): number => {
    if (step <= warmup) return (opts.lr * step) / Math.max(1, warmup);
    const progress = Math.min(1, (step - warmup) / Math.max(1, opts.totalSteps - warmup));
    return minLr + 0.5 * (opts.lr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}

export function constantLr(lr: number): LrSchedule {
  return () => lr;
}
