/**
 * Timestep spacings, computed the way diffusers computes them with numpy, so gesso picks the same
 * timesteps: `np.round` rounds halves to even, `np.linspace` is start + i·step with the end pinned.
 * One deliberate difference: diffusers' `trailing` uses `np.arange(T, 0, -T/n)`, which for some n
 * (61, 103, …) yields n+1 values ending in −1; gesso always takes exactly n.
 */
import type { TimestepSpacing } from './config.ts';

/** numpy's round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** numpy's linspace(start, stop, num, endpoint). */
export function linspace(start: number, stop: number, num: number, endpoint = true): number[] {
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  const out = Array.from({ length: num }, (_, i) => start + i * step);
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/** Descending values start, start − step, … (n of them), as numpy's arange builds them. */
function descendingRange(start: number, step: number, n: number): number[] {
  const delta = start - step - start; // numpy uses (start + step) − start as the stride
  return Array.from({ length: n }, (_, i) => start + i * delta);
}

/**
 * Descending timesteps for DDPM, DDIM, PNDM and Euler (diffusers' `set_timesteps`):
 * - leading:  (0, r, 2r, …)·reversed + steps_offset, with r = T div n        (Stable Diffusion: offset 1 → 951 … 1 for 20)
 * - trailing: round(T, T − T/n, …) − 1                                        (999, 949, …, 49 for 20)
 * - linspace: round(linspace(0, T−1, n)) reversed; unrounded when `roundLinspace` is false (Euler).
 */
export function spacedTimesteps(spacing: TimestepSpacing, numTrain: number, n: number, stepsOffset: number, roundLinspace = true): number[] {
  switch (spacing) {
    case 'linspace': {
      const ts = linspace(0, numTrain - 1, n).reverse();
      return roundLinspace ? ts.map(roundHalfEven) : ts;
    }
    case 'leading': {
      const ratio = Math.floor(numTrain / n);
      return Array.from({ length: n }, (_, i) => (n - 1 - i) * ratio + stepsOffset);
    }
    case 'trailing':
      return descendingRange(numTrain, numTrain / n, n).map((t) => roundHalfEven(t) - 1);
  }
}

/**
 * DPMSolverMultistepScheduler's spacing: it divides the range into n+1 and drops the final 0.
 * - linspace: round(linspace(0, T−1, n+1)) reversed, without its last (0)    (999, 949, …, 50 for 20)
 * - leading:  (0, r, …, n·r) reversed without the last, r = T div (n+1), plus steps_offset
 * - trailing: as DDIM's.
 */
export function dpmSpacedTimesteps(spacing: TimestepSpacing, numTrain: number, n: number, stepsOffset: number): number[] {
  switch (spacing) {
    case 'linspace':
      return linspace(0, numTrain - 1, n + 1)
        .map(roundHalfEven)
        .reverse()
        .slice(0, n);
    case 'leading': {
      const ratio = Math.floor(numTrain / (n + 1));
      return Array.from({ length: n }, (_, i) => (n - i) * ratio + stepsOffset);
    }
    case 'trailing':
      return spacedTimesteps('trailing', numTrain, n, stepsOffset);
  }
}
