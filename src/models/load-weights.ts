/**
 * Puts weights from a safetensors file into a built graph's parameters, by name, so trained weights
 * (a gesso training checkpoint, or a diffusers `diffusion_pytorch_model.safetensors`) can be exported.
 * Names match because gesso's models use diffusers' / transformers' state-dict names.
 *
 * Checks before anything changes: every parameter must be found with its shape (a 1x1 conv weight
 * (O, I, 1, 1) and a Linear weight (O, I) count as the same: SD 1.x and 2.x differ exactly there), and
 * in strict mode every tensor of the file must be used. F16/BF16 tensors are widened to float32.
 */
import { InputError } from '../core/errors.ts';
import type { Graph } from '../graph/graph.ts';
import { readSafetensors, toFloat32, type SafetensorsFile, type SafetensorsTensor } from '../weights/safetensors.ts';

export interface LoadWeightsOptions {
  /** Prepended to each parameter's name to find it in the file (e.g. "unet." for a combined file). */
  prefix?: string;
  /**
   * Refuse tensors of the file no parameter uses (default false: a training checkpoint also holds
   * optimizer state). Only tensors under `prefix` count.
   */
  strict?: boolean;
  /** Take `ema.<name>` instead of `<name>` when the file has it (a training checkpoint's averaged weights). */
  preferEma?: boolean;
  /** File tensors that are never parameters (transformers' `position_ids` buffer, say); skipped in strict mode. */
  ignore?: readonly string[];
}

export interface LoadWeightsReport {
  loaded: number;
  /** File tensors (under the prefix) that no parameter took. */
  unused: string[];
}

const ALWAYS_IGNORED = ['text_model.embeddings.position_ids'];

/** True when two shapes differ only by trailing 1s (1x1 conv vs Linear). */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  const trim = (s: readonly number[]): number[] => {
    const out = [...s];
    while (out.length > 2 && out[out.length - 1] === 1) out.pop();
    return out;
  };
  return trim(a).join() === trim(b).join();
}

/** Loads from a file path, or from an already-read safetensors file (`name` labels errors). */
export function loadWeightsIntoGraph(
  g: Graph,
  source: string | SafetensorsFile,
  options: LoadWeightsOptions = {},
  name = typeof source === 'string' ? source : 'safetensors',
): LoadWeightsReport {
  const file = typeof source === 'string' ? readSafetensors(source, source) : source;
  const prefix = options.prefix ?? '';
  const taken = new Set<string>();
  const values = new Map<string, Float32Array>();
  const missing: string[] = [];
  for (const p of g.params.values()) {
    const key = `${prefix}${p.name}`;
    const emaKey = `ema.${key}`;
    const useKey = options.preferEma && file.tensors.has(emaKey) ? emaKey : key;
    const t: SafetensorsTensor | undefined = file.tensors.get(useKey);
    if (!t) {
      missing.push(key);
      continue;
    }
    if (!sameShape(t.shape, p.tensor.shape)) {
      throw new InputError(`${name}: tensor "${useKey}" has shape [${t.shape.join(', ')}], the model's parameter needs [${p.tensor.shape.join(', ')}]`);
    }
    taken.add(useKey);
    if (useKey === emaKey) taken.add(key);
    values.set(p.name, Float32Array.from(toFloat32(t)));
  }
  if (missing.length > 0) {
    const shown = missing
      .slice(0, 5)
      .map((m) => `"${m}"`)
      .join(', ');
    throw new InputError(`${name}: ${missing.length} of the model's ${g.params.size} parameters are missing, e.g. ${shown}${missing.length > 5 ? ' …' : ''}`);
  }
  const ignored = new Set([...ALWAYS_IGNORED, ...(options.ignore ?? [])].map((n) => `${prefix}${n}`));
  const unused = [...file.tensors.keys()].filter((k) => k.startsWith(prefix) && !taken.has(k) && !ignored.has(k));
  if (options.strict && unused.length > 0) {
    throw new InputError(
      `${name}: ${unused.length} tensors are not parameters of this model, e.g. "${unused.slice(0, 5).join('", "')}" (is it a checkpoint of another architecture or config?)`,
    );
  }
  for (const [paramName, value] of values) (g.params.get(paramName) as { value: Float32Array }).value = value;
  return { loaded: values.size, unused };
}
