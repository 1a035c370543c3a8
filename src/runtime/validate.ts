/**
 * Checks a run's feeds, fetches and carries against the model's declared inputs and outputs before
 * ONNX Runtime sees them, so a mismatch reads `input "timestep": expected int64 [1], got float32 [1]`
 * instead of an ORT message without the name. Pure functions: both runners and the worker use them.
 */
import { InputError } from '../core/errors.ts';
import type { RunOptions, ValueInfo } from './runner.ts';
import { ARRAY_OF, describeType, isDType, sizeOf, type HostTensor } from './tensor.ts';

export interface RunPlan {
  /** Outputs the caller gets back. */
  fetch: string[];
  /** [output, state input] pairs applied after the run. */
  carry: [string, string][];
  /** Outputs ORT must compute: fetch plus carried. */
  ortFetch: string[];
}

export function normalizeRunOptions(options: string[] | RunOptions | undefined): RunOptions {
  if (options === undefined) return {};
  return Array.isArray(options) ? { fetch: options } : options;
}

/**
 * Throws an InputError naming the value, the expected and the actual type when `t` cannot be fed as
 * `info`. `role` starts the message: `input "x"`, `state "w"`.
 */
export function checkTensor(modelName: string, role: string, info: ValueInfo, t: HostTensor): void {
  const where = `${modelName}: ${role} "${info.name}"`;
  if (t === null || typeof t !== 'object' || !Array.isArray(t.dims) || !ArrayBuffer.isView(t.data)) {
    throw new InputError(`${where}: expected a HostTensor { dtype, dims, data }, got ${describeValue(t)}`);
  }
  const expected = describeType(info.dtype, info.shape);
  const got = describeType(t.dtype, t.dims);
  if (info.dtype === 'non-tensor') throw new InputError(`${where}: is not a tensor input; gesso cannot feed it`);
  if (t.dtype !== info.dtype) throw new InputError(`${where}: expected ${expected}, got ${got} (wrong dtype)`);
  // ORT reports an input with no declared shape as [], the same as a scalar: leave that rank to ORT.
  if (info.shape.length > 0) {
    if (t.dims.length !== info.shape.length) {
      throw new InputError(`${where}: expected ${expected}, got ${got} (rank ${t.dims.length}, expected rank ${info.shape.length})`);
    }
    info.shape.forEach((want, axis) => {
      if (typeof want === 'number' && t.dims[axis] !== want) {
        throw new InputError(`${where}: expected ${expected}, got ${got} (dim ${axis} must be ${want})`);
      }
    });
  }
  for (const d of t.dims) {
    if (!Number.isInteger(d) || d < 0) throw new InputError(`${where}: dims ${got} are not non-negative integers`);
  }
  const Kind = isDType(t.dtype) ? ARRAY_OF[t.dtype] : undefined;
  if (Kind === undefined || !(t.data instanceof Kind)) {
    throw new InputError(`${where}: ${t.dtype} data must be a ${Kind?.name ?? '?'}, got a ${t.data.constructor.name}`);
  }
  const n = sizeOf(t.dims);
  if (t.data.length !== n) throw new InputError(`${where}: ${got} needs ${n} values, got ${t.data.length}`);
}

function describeValue(v: unknown): string {
  if (v === null || typeof v !== 'object') return String(v);
  return v.constructor?.name ?? 'object';
}

/** Checks a run against the model and the names of the held state; returns what to run and keep. */
export function planRun(
  modelName: string,
  inputs: readonly ValueInfo[],
  outputs: readonly ValueInfo[],
  feeds: Record<string, HostTensor>,
  held: ReadonlySet<string>,
  options: RunOptions,
): RunPlan {
  const inputByName = new Map(inputs.map((i) => [i.name, i]));
  const outputByName = new Map(outputs.map((o) => [o.name, o]));
  const inputList = inputs.map((i) => i.name).join(', ');
  const outputList = outputs.map((o) => o.name).join(', ');

  for (const name of Object.keys(feeds)) {
    const info = inputByName.get(name);
    if (info === undefined) throw new InputError(`${modelName}: unknown input "${name}"; the model's inputs are ${inputList}`);
    checkTensor(modelName, 'input', info, feeds[name]);
  }
  const carry = Object.entries(options.carry ?? {});
  const carriedInto = new Map<string, string>();
  for (const [outName, inName] of carry) {
    const out = outputByName.get(outName);
    if (out === undefined) throw new InputError(`${modelName}: carry from unknown output "${outName}"; the model's outputs are ${outputList}`);
    const into = inputByName.get(inName);
    if (into === undefined) throw new InputError(`${modelName}: carry into unknown input "${inName}"; the model's inputs are ${inputList}`);
    if (out.dtype !== into.dtype) {
      throw new InputError(
        `${modelName}: carry "${outName}" -> "${inName}": output is ${describeType(out.dtype, out.shape)}, input expects ${describeType(into.dtype, into.shape)}`,
      );
    }
    const earlier = carriedInto.get(inName);
    if (earlier !== undefined) throw new InputError(`${modelName}: outputs "${earlier}" and "${outName}" both carry into input "${inName}"`);
    carriedInto.set(inName, outName);
  }

  const carriedOut = new Set(carry.map(([o]) => o));
  const fetch = options.fetch ?? outputs.map((o) => o.name).filter((n) => !carriedOut.has(n));
  for (const name of fetch) {
    if (!outputByName.has(name)) throw new InputError(`${modelName}: unknown output "${name}"; the model's outputs are ${outputList}`);
  }
  const missing = inputs.filter((i) => !Object.hasOwn(feeds, i.name) && !held.has(i.name));
  if (missing.length > 0) {
    const list = missing.map((i) => `"${i.name}" (${describeType(i.dtype, i.shape)})`).join(', ');
    const verb = missing.length === 1 ? 'input' : 'inputs';
    throw new InputError(`${modelName}: missing ${verb} ${list}; feed ${missing.length === 1 ? 'it' : 'them'} or hold with setState`);
  }

  const ortFetch = [...new Set([...fetch, ...carriedOut])];
  return { fetch: [...new Set(fetch)], carry, ortFetch };
}
