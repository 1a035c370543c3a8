/**
 * TensorFlow.js weight shards: a manifest (`weightsManifest` in model.json) lists each weight's name,
 * shape, dtype and optional quantization; the shards of a group are one byte stream cut into files.
 * Quantized weights are stored as uint8/uint16 with `value = q * scale + min`, or as float16.
 * Format: https://www.tensorflow.org/js/guide/save_load (weights manifest) and tfjs-converter's
 * quantization notes.
 */
import { InputError } from '../core/errors.ts';
import { float16BitsToNumber } from '../weights/half.ts';

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
}

export interface TfjsWeightGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

export interface TfjsWeight {
  shape: number[];
  data: Float32Array;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** Decodes one group's weights from its concatenated shard bytes; every byte must be accounted for. */
export function decodeWeightGroup(group: TfjsWeightGroup, bytes: Uint8Array, source: string): Map<string, TfjsWeight> {
  const out = new Map<string, TfjsWeight>();
  let offset = 0;
  for (const spec of group.weights) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const stored = spec.quantization?.dtype ?? spec.dtype;
    const width = BYTES[stored];
    if (width === undefined) throw new InputError(`${source}: weight "${spec.name}" is stored as ${stored}; expected one of ${Object.keys(BYTES).join(', ')}`);
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32')
      throw new InputError(`${source}: weight "${spec.name}" has dtype ${spec.dtype}; expected float32 or int32`);
    const length = count * width;
    if (offset + length > bytes.length) {
      throw new InputError(
        `${source}: weight shards are truncated (weight "${spec.name}" needs bytes ${offset}..${offset + length}, shards hold ${bytes.length})`,
      );
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
    out.set(spec.name, { shape: spec.shape, data: decode(view, count, stored, spec) });
    offset += length;
  }
  if (offset !== bytes.length) throw new InputError(`${source}: weight shards hold ${bytes.length} bytes, the manifest describes ${offset}`);
  return out;
}

function decode(view: DataView, count: number, stored: string, spec: TfjsWeightSpec): Float32Array {
  const data = new Float32Array(count);
  const q = spec.quantization;
  const scale = q?.scale ?? 1;
  const min = q?.min ?? 0;
  for (let i = 0; i < count; i++) {
    switch (stored) {
      case 'float32':
        data[i] = view.getFloat32(i * 4, true);
        break;
      case 'int32':
        data[i] = view.getInt32(i * 4, true);
        break;
      case 'uint8':
        data[i] = view.getUint8(i) * scale + min;
        break;
      case 'uint16':
        data[i] = view.getUint16(i * 2, true) * scale + min;
        break;
      case 'float16':
        data[i] = float16BitsToNumber(view.getUint16(i * 2, true));
        break;
    }
  }
  return data;
}
