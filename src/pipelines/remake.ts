/**
 * What re-making an image from its recipe promises. With the runtime the recipe records (ORT version and
 * CPU kernel family, runtime-info.ts) the same gesso version gives the same pixels, byte for byte. With
 * another runtime, ORT's kernels round differently and pixels may move a little: gesso's golden tests hold
 * such differences within REMAKE_TOLERANCE.
 */
import { isJsonObject, type JsonObject } from '../core/json.ts';
import { describeRuntime, runtimeInfo, sameRuntime, type RuntimeInfo } from '../runtime/runtime-info.ts';

/** Largest and mean absolute difference of 8-bit pixel values allowed between runtimes (in 1/255 units). */
export const REMAKE_TOLERANCE = { max: 2, mean: 0.2 } as const;

export interface RemakeExpectation {
  /** True: the same bytes are expected. False: small pixel differences are possible. */
  exact: boolean;
  /** One line for the user. */
  message: string;
}

/** The runtime a recipe records, or null for recipes made before gesso recorded it. */
export function recipeRuntime(recipe: JsonObject): RuntimeInfo | null {
  const r = recipe.runtime;
  return isJsonObject(r) && typeof r.ort === 'string' && typeof r.cpu === 'string' ? { ort: r.ort, cpu: r.cpu } : null;
}

/** Whether `recorded` (a recipe's or a golden file's runtime) matches this process's runtime, said for the user. */
export function remakeExpectation(recorded: RuntimeInfo | null, current: RuntimeInfo = runtimeInfo()): RemakeExpectation {
  if (sameRuntime(recorded, current)) return { exact: true, message: `same runtime (${describeRuntime(current)}): exact re-make expected` };
  const then = recorded ? describeRuntime(recorded) : 'not recorded';
  return {
    exact: false,
    message:
      `different CPU kernels/ORT (recorded: ${then}; here: ${describeRuntime(current)}): small pixel differences possible ` +
      `(within ${REMAKE_TOLERANCE.max}/255 per value, ${REMAKE_TOLERANCE.mean}/255 on average in gesso's golden tests)`,
  };
}

export interface PixelDifference {
  /** Largest |a − b| over all values, in 1/255 units. */
  max: number;
  /** Mean |a − b|, in 1/255 units. */
  mean: number;
  /** Index of the largest difference. */
  at: number;
}

/** Differences of two 8-bit images of the same shape. */
export function pixelDifference(a: Uint8Array, b: Uint8Array): PixelDifference {
  if (a.length !== b.length) throw new RangeError(`images have ${a.length} and ${b.length} values; they must have the same shape`);
  let max = 0;
  let at = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    sum += d;
    if (d > max) {
      max = d;
      at = i;
    }
  }
  return { max, mean: a.length > 0 ? sum / a.length : 0, at };
}

/** True when `d` is within REMAKE_TOLERANCE. */
export function withinRemakeTolerance(d: PixelDifference): boolean {
  return d.max <= REMAKE_TOLERANCE.max && d.mean <= REMAKE_TOLERANCE.mean;
}
