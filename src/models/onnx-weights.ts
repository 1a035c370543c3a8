/**
 * An ONNX model's float32 initializers as arrays, and the same model written back with all of them
 * inline: the way to change weights in memory (LoRA merging, training from a model folder) without
 * touching the user's files. External data is read from the data file beside the model after
 * validateOnnxFile has confined it to the model's folder.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { decodeModel, encodeModel, ONNX_DTYPE, type ModelProtoObject, type TensorProtoObject } from '../graph/onnx-proto.ts';
import { readExactly } from '../weights/file-io.ts';
import { validateOnnxFile } from '../weights/onnx-external-data.ts';

/** Protobuf cannot encode a message past 2 GiB; SD 1.5's fp32 UNet (3.4 GB) is over it. */
const MAX_INLINE_BYTES = 2_000_000_000;

export interface OnnxWeights {
  path: string;
  model: ModelProtoObject;
  /** name -> initializer (every initializer, any dtype). */
  initializers: Map<string, TensorProtoObject>;
}

/** Decodes a model file (checked first: not a pickle, external data inside its folder). */
export function readOnnxWeights(path: string): OnnxWeights {
  const summary = validateOnnxFile(path);
  if (summary.externalBytes > MAX_INLINE_BYTES) {
    throw new InputError(
      `${path}: ${summary.externalBytes} bytes of external weights; changing weights in memory is limited to models under 2 GB (protobuf's limit)`,
    );
  }
  const model = decodeModel(readFileSync(path));
  const initializers = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  return { path, model, initializers };
}

/** A float32 initializer's values (a copy), reading external data when the tensor has it. */
export function initializerValues(w: OnnxWeights, name: string): Float32Array {
  const t = w.initializers.get(name);
  if (!t) throw new InputError(`${w.path}: no initializer named "${name}"`);
  if ((t.data_type ?? 0) !== ONNX_DTYPE.float32) throw new InputError(`${w.path}: initializer "${name}" is not float32 (ONNX data type ${t.data_type})`);
  const count = (t.dims ?? []).reduce((a, b) => a * b, 1);
  if (t.data_location === 1) {
    const field = (key: string): string | undefined => t.external_data?.find((e) => e.key === key)?.value;
    const bytes = new Uint8Array(4 * count);
    const fd = openSync(join(dirname(w.path), field('location') ?? ''), 'r');
    try {
      readExactly(fd, bytes, Number(field('offset') ?? 0), `${w.path}: external data of "${name}"`);
    } finally {
      closeSync(fd);
    }
    return new Float32Array(bytes.buffer);
  }
  if (t.raw_data && t.raw_data.length > 0) return new Float32Array(Uint8Array.from(t.raw_data).buffer);
  return Float32Array.from(t.float_data ?? []);
}

/**
 * The model with `replaced` initializers set to new values and every external initializer read
 * inline, as bytes ORT can load without a folder. `reshaped` gives new dims for replaced initializers
 * that change size (a token-embedding table with rows added for textual-inversion words).
 */
export function encodeWithWeights(w: OnnxWeights, replaced: ReadonlyMap<string, Float32Array>, reshaped?: ReadonlyMap<string, number[]>): Uint8Array {
  const initializer = (w.model.graph?.initializer ?? []).map((t): TensorProtoObject => {
    const name = t.name ?? '';
    const values = replaced.get(name) ?? (t.data_location === 1 ? initializerValues(w, name) : null);
    if (!values) return t;
    const { external_data: _external, data_location: _location, float_data: _floats, ...rest } = t;
    const dims = reshaped?.get(name);
    return { ...rest, ...(dims ? { dims } : {}), raw_data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
  });
  return encodeModel({ ...w.model, graph: { ...w.model.graph, initializer } });
}
