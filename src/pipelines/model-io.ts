/**
 * What the pipeline needs to know about one model input or output, read from the session's metadata:
 * which dims are fixed, and how to feed float data to a float32 or float16 input. Stable Diffusion
 * exports disagree on details (timestep int64 or float32, fixed or dynamic batch), so nothing here
 * assumes a layout; the pipeline asks.
 */
import { GessoError, InputError } from '../core/errors.ts';
import type { Runner, ValueInfo } from '../runtime/runner.ts';
import type { HostTensor } from '../runtime/tensor.ts';
import { float16ToFloat32, float32ToFloat16 } from '../weights/half.ts';

/** A dim as a number when the model fixes it, null when it is symbolic (or unknown: ORT may say -1). */
export function fixedDim(info: ValueInfo, axis: number): number | null {
  const d = info.shape[axis];
  return typeof d === 'number' && d > 0 ? d : null;
}

export function findInput(runner: Runner, name: string): ValueInfo | undefined {
  return runner.inputs.find((i) => i.name === name);
}

/** The named input, or an error naming the file, the input it lacks and the inputs it has. */
export function requireInput(runner: Runner, name: string, file: string, what: string): ValueInfo {
  const info = findInput(runner, name);
  if (info === undefined) {
    throw new InputError(`${file}: expected an input "${name}" (${what}); the model's inputs are ${runner.inputs.map((i) => i.name).join(', ')}`);
  }
  return info;
}

/** The output called `preferred` if there is one, else the first output; errors name the file. */
export function pickOutput(runner: Runner, preferred: readonly string[], file: string): ValueInfo {
  for (const name of preferred) {
    const found = runner.outputs.find((o) => o.name === name);
    if (found) return found;
  }
  const first = runner.outputs[0];
  if (first === undefined) throw new InputError(`${file}: the model has no outputs`);
  return first;
}

/** Refuses any input the pipeline would not know how to feed, naming it. */
export function refuseExtraInputs(runner: Runner, known: readonly string[], file: string, hint = ''): void {
  const extra = runner.inputs.filter((i) => !known.includes(i.name));
  if (extra.length > 0) {
    throw new InputError(
      `${file}: unexpected input${extra.length > 1 ? 's' : ''} ${extra.map((i) => `"${i.name}"`).join(', ')}; expected only ${known.join(', ')}${hint}`,
    );
  }
}

/** Float inputs gesso can feed: float32 as is, float16 converted (fp16 exports). */
export function checkFloatInput(info: ValueInfo, file: string): void {
  if (info.dtype !== 'float32' && info.dtype !== 'float16') {
    throw new InputError(`${file}: input "${info.name}" is ${info.dtype}; expected float32 or float16`);
  }
}

/** A float32 array as a tensor of the input's float dtype. */
export function floatTensor(info: ValueInfo, dims: number[], data: Float32Array): HostTensor {
  if (info.dtype === 'float16') return { dtype: 'float16', dims, data: float32ToFloat16(data) };
  return { dtype: 'float32', dims, data };
}

/** A model's float output as float32 (fp16 outputs converted). */
export function floatData(t: HostTensor, what: string): Float32Array {
  if (t.dtype === 'float32') return t.data as Float32Array;
  if (t.dtype === 'float16') return float16ToFloat32(t.data as Uint16Array);
  throw new GessoError(`${what} is ${t.dtype}; expected float32 or float16`);
}

/**
 * The batch sizes to run `total` items in: all at once when the model's batch dim is dynamic, else
 * groups of the fixed size (gesso's own models may fix it). The last group may be short; the caller
 * pads it (see padBatch).
 */
export function batchGroups(total: number, fixedBatch: number | null): number[] {
  const size = fixedBatch ?? total;
  const groups: number[] = [];
  for (let done = 0; done < total; done += size) groups.push(Math.min(size, total - done));
  return groups;
}

/**
 * Items [from, from + count) of a batch of `itemSize`-value items, padded to `size` items by repeating
 * the last one (a fixed-batch model must get exactly its batch; the padding outputs are dropped).
 */
export function padBatch(data: Float32Array, itemSize: number, from: number, count: number, size: number): Float32Array {
  const out = new Float32Array(size * itemSize);
  out.set(data.subarray(from * itemSize, (from + count) * itemSize));
  for (let i = count; i < size; i++) out.copyWithin(i * itemSize, (count - 1) * itemSize, count * itemSize);
  return out;
}

/**
 * Runs `runner` over `total` batch items (in groups when its batch dim is fixed) and returns the float
 * output `output`, items concatenated along dim 0. `feedsFor(from, count, size)` builds the feeds for
 * items [from, from + count), padded to `size` items.
 */
export async function runBatched(
  runner: Runner,
  total: number,
  fixedBatch: number | null,
  feedsFor: (from: number, count: number, size: number) => Record<string, HostTensor>,
  output: string,
  signal?: AbortSignal,
): Promise<{ data: Float32Array; dims: number[] }> {
  const parts: Float32Array[] = [];
  let itemDims: number[] = [];
  let from = 0;
  for (const count of batchGroups(total, fixedBatch)) {
    const size = fixedBatch ?? count;
    const result = await runner.run(feedsFor(from, count, size), { fetch: [output], ...(signal ? { signal } : {}) });
    const t = result[output] as HostTensor;
    if (t.dims[0] !== size) throw new GessoError(`${runner.name}: output "${output}" has batch ${t.dims[0]}; expected ${size}`);
    itemDims = t.dims.slice(1);
    const data = floatData(t, `${runner.name}: output "${output}"`);
    const itemSize = data.length / size;
    parts.push(count === size ? data : data.subarray(0, count * itemSize));
    from += count;
  }
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return { data: out, dims: [total, ...itemDims] };
}
