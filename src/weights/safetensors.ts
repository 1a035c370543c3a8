/**
 * safetensors read/write (format: github.com/huggingface/safetensors, README "Format"):
 *   u64 little-endian N | N bytes of JSON header | data buffer
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to
 * the data buffer) plus an optional "__metadata__" map of strings. Everything is validated before any
 * tensor is touched: a bad file is refused with its name and the problem, never half-read.
 */
import { closeSync } from 'node:fs';
import { openRegularFile } from '../core/safe-read.ts';
import { InputError } from '../core/errors.ts';
import { readExactly, writeAll, writeFileAtomic } from './file-io.ts';
import { assertBytesNotPickle, assertNotPickle } from './pickle-guard.ts';
import { bfloat16ToFloat32, float16ToFloat32 } from './half.ts';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

export type TensorData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

/** F16/BF16 data are raw bit patterns (Uint16Array); F8 and BOOL are bytes (Uint8Array). */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsFile {
  /** In file order (by offset). */
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) relative to the start of the data buffer. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  /** Sorted by offset. */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** File offset of the data buffer: 8 + header length. */
  dataStart: number;
  dataSize: number;
}

type ArrayMaker = (buffer: ArrayBufferLike, byteOffset: number, length: number) => TensorData;

const DTYPES: Record<SafetensorsDtype, { bytes: number; make: ArrayMaker }> = {
  F64: { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  F32: { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  F16: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  BF16: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  I64: { bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  I32: { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  I16: { bytes: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  I8: { bytes: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  U64: { bytes: 8, make: (b, o, n) => new BigUint64Array(b, o, n) },
  U32: { bytes: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  U16: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  U8: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  BOOL: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  F8_E4M3: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  F8_E5M2: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
};

/** The reference implementation's cap; real SD checkpoints have headers of a few hundred KB. */
export const MAX_HEADER_BYTES = 100_000_000;

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPES, value);
}

export function dtypeBytes(dtype: SafetensorsDtype): number {
  return DTYPES[dtype].bytes;
}

// ------------------------------------------------------------------------------------------ reading

/** Reads and validates only the header (cheap even for multi-GB files). */
export function readSafetensorsHeader(source: string | Uint8Array, name = '<bytes>'): SafetensorsHeader {
  if (typeof source !== 'string') {
    assertBytesNotPickle(source, name);
    const { headerLength } = checkPrefix(name, source.subarray(0, 8), source.length);
    return parseHeader(name, source.subarray(8, 8 + headerLength), source.length);
  }
  assertNotPickle(source);
  const { fd, size } = openRegularFile(source, { what: 'safetensors file' });
  try {
    return readHeaderFromFd(source, fd, size);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads every tensor. From a path, each tensor gets its own aligned array filled straight from the
 * file (one copy: disk to array). From bytes, tensors are views into `source` when their offset is
 * aligned for the dtype (zero-copy: they share memory with `source`), otherwise copies.
 */
export function readSafetensors(source: string | Uint8Array, name = '<bytes>'): SafetensorsFile {
  if (typeof source !== 'string') {
    const header = readSafetensorsHeader(source, name);
    const tensors = new Map<string, SafetensorsTensor>();
    for (const entry of header.entries) {
      const { bytes, make } = DTYPES[entry.dtype];
      const start = source.byteOffset + header.dataStart + entry.dataOffsets[0];
      const count = (entry.dataOffsets[1] - entry.dataOffsets[0]) / bytes;
      let data: TensorData;
      if (start % bytes === 0) {
        data = make(source.buffer, start, count);
      } else {
        // Misaligned for the dtype: copy (a Buffer's own slice() would be a view, hence the explicit copy).
        const copy = new Uint8Array(count * bytes);
        copy.set(source.subarray(header.dataStart + entry.dataOffsets[0], header.dataStart + entry.dataOffsets[1]));
        data = make(copy.buffer, 0, count);
      }
      tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data });
    }
    return { tensors, metadata: header.metadata };
  }
  assertNotPickle(source);
  const { fd, size } = openRegularFile(source, { what: 'safetensors file' });
  try {
    const header = readHeaderFromFd(source, fd, size);
    const tensors = new Map<string, SafetensorsTensor>();
    for (const entry of header.entries) {
      const { bytes, make } = DTYPES[entry.dtype];
      const byteLength = entry.dataOffsets[1] - entry.dataOffsets[0];
      const buffer = new ArrayBuffer(byteLength);
      readExactly(fd, new Uint8Array(buffer), header.dataStart + entry.dataOffsets[0], source);
      tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data: make(buffer, 0, byteLength / bytes) });
    }
    return { tensors, metadata: header.metadata };
  } finally {
    closeSync(fd);
  }
}

/** Any tensor's values as float32: F16/BF16 decoded, integers converted (64-bit ones may round); F32 data is returned as is, not copied. */
export function toFloat32(tensor: SafetensorsTensor): Float32Array {
  const { dtype, data } = tensor;
  if (dtype === 'F32') return data as Float32Array;
  if (dtype === 'F16') return float16ToFloat32(data as Uint16Array);
  if (dtype === 'BF16') return bfloat16ToFloat32(data as Uint16Array);
  if (dtype === 'F8_E4M3' || dtype === 'F8_E5M2') {
    throw new InputError(`toFloat32: dtype ${dtype} is not supported (expected F64, F32, F16, BF16 or an integer dtype)`);
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}

function readHeaderFromFd(path: string, fd: number, fileSize: number): SafetensorsHeader {
  const prefix = new Uint8Array(Math.min(8, fileSize));
  readExactly(fd, prefix, 0, path);
  const { headerLength } = checkPrefix(path, prefix, fileSize);
  const headerBytes = new Uint8Array(headerLength);
  readExactly(fd, headerBytes, 8, path);
  return parseHeader(path, headerBytes, fileSize);
}

function checkPrefix(name: string, prefix: Uint8Array, fileSize: number): { headerLength: number } {
  if (prefix.length < 8) {
    throw new InputError(`${name}: not a safetensors file: ${fileSize} bytes is shorter than the 8-byte header length`);
  }
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new InputError(`${name}: safetensors header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (length + 8n > BigInt(fileSize)) {
    throw new InputError(`${name}: safetensors header length ${length} is larger than the file (${fileSize} bytes): truncated or not safetensors`);
  }
  return { headerLength: Number(length) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseHeader(name: string, headerBytes: Uint8Array, fileSize: number): SafetensorsHeader {
  const fail = (problem: string): never => {
    throw new InputError(`${name}: invalid safetensors header: ${problem}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    fail(`not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(parsed)) fail(`expected a JSON object, got ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}`);
  const header = parsed as Record<string, unknown>;
  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;

  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') {
      if (!isPlainObject(value)) fail(`"__metadata__" must be an object of strings, got ${JSON.stringify(value)}`);
      for (const [mk, mv] of Object.entries(value as Record<string, unknown>)) {
        if (typeof mv !== 'string') fail(`"__metadata__" value for ${JSON.stringify(mk)} must be a string, got ${JSON.stringify(mv)}`);
        Object.defineProperty(metadata, mk, { value: mv, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    entries.push(parseEntry(key, value, fail));
  }

  // Offsets must tile the data buffer exactly: no out-of-range, no overlap, no holes.
  entries.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  for (const entry of entries) {
    if (entry.dataOffsets[1] > dataSize) {
      fail(
        `tensor ${JSON.stringify(entry.name)} ends at data byte ${entry.dataOffsets[1]} but the data buffer has only ` +
          `${dataSize} bytes (file truncated or offsets out of range)`,
      );
    }
  }
  let covered = 0;
  let previous: SafetensorsEntry | null = null;
  for (const entry of entries) {
    const [begin, end] = entry.dataOffsets;
    if (begin < covered) {
      fail(`tensors ${JSON.stringify(previous?.name)} and ${JSON.stringify(entry.name)} overlap (bytes ${begin}..${covered})`);
    }
    if (begin > covered) {
      fail(`hole in the data buffer: bytes ${covered}..${begin} belong to no tensor (before ${JSON.stringify(entry.name)})`);
    }
    covered = end;
    previous = entry;
  }
  if (covered !== dataSize) {
    fail(`hole in the data buffer: bytes ${covered}..${dataSize} after the last tensor belong to no tensor`);
  }
  return { entries, metadata, dataStart, dataSize };
}

function parseEntry(tensorName: string, value: unknown, fail: (problem: string) => never): SafetensorsEntry {
  const what = `tensor ${JSON.stringify(tensorName)}`;
  if (!isPlainObject(value)) return fail(`${what} must be an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (!isSafetensorsDtype(dtype)) {
    return fail(`${what} has unknown dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    return fail(`${what} has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => typeof o === 'number' && Number.isInteger(o) && o >= 0)) {
    return fail(`${what} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with non-negative integers`);
  }
  const [begin, end] = offsets as number[];
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end)) {
    return fail(`${what} has data_offsets ${JSON.stringify(offsets)} beyond ${Number.MAX_SAFE_INTEGER} (overflow)`);
  }
  if (end < begin) return fail(`${what} has reversed data_offsets [${begin}, ${end}]`);
  // BigInt: the element count times the dtype size can overflow doubles for hostile shapes.
  const expected = (shape as number[]).reduce((n, d) => n * BigInt(d), 1n) * BigInt(DTYPES[dtype].bytes);
  if (expected !== BigInt(end - begin)) {
    return fail(`${what} is ${end - begin} bytes but dtype ${dtype} with shape [${shape.join(', ')}] needs ${expected}`);
  }
  return { name: tensorName, dtype, shape: [...(shape as number[])], dataOffsets: [begin, end] };
}

// ------------------------------------------------------------------------------------------ writing

type TensorInput = Map<string, SafetensorsTensor> | Record<string, SafetensorsTensor>;

/**
 * Writes tensors atomically (temp file + rename in the same folder). Layout is deterministic: tensors
 * ordered by dtype size (largest first) then name, as the reference implementation does, so every
 * tensor's offset is a multiple of its element size and readers can view it without copying; the
 * header is padded with spaces so the data buffer starts 8-byte aligned.
 */
export function writeSafetensors(path: string, tensors: TensorInput, metadata: Record<string, string> = {}): void {
  const plan = planLayout(path, tensors, metadata);
  writeFileAtomic(path, (fd) => {
    writeAll(fd, plan.head);
    for (const [, tensor] of plan.ordered) writeAll(fd, asBytes(tensor.data));
  });
}

/** The same bytes as `writeSafetensors`, in memory. */
export function encodeSafetensors(tensors: TensorInput, metadata: Record<string, string> = {}): Uint8Array {
  const plan = planLayout('<bytes>', tensors, metadata);
  const dataSize = plan.ordered.reduce((n, [, t]) => n + t.data.byteLength, 0);
  const out = new Uint8Array(plan.head.length + dataSize);
  out.set(plan.head, 0);
  let pos = plan.head.length;
  for (const [, tensor] of plan.ordered) {
    out.set(asBytes(tensor.data), pos);
    pos += tensor.data.byteLength;
  }
  return out;
}

function asBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function planLayout(target: string, tensors: TensorInput, metadata: Record<string, string>) {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, tensor] of list) checkTensorInput(target, name, tensor);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new InputError(`${target}: metadata value for ${JSON.stringify(key)} must be a string, got ${typeof value}`);
    }
  }
  const ordered = list.sort(([an, at], [bn, bt]) => DTYPES[bt.dtype].bytes - DTYPES[at.dtype].bytes || (an < bn ? -1 : an > bn ? 1 : 0));
  // JSON written by hand: object key order in JS moves integer-like names first.
  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort();
  if (metaKeys.length > 0) {
    parts.push(`"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const [name, tensor] of ordered) {
    const end = offset + tensor.data.byteLength;
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + headerLength).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);
  return { head, ordered };
}

function checkTensorInput(target: string, name: string, tensor: SafetensorsTensor): void {
  const what = `${target}: tensor ${JSON.stringify(name)}`;
  if (name === '__metadata__') throw new InputError(`${what}: the name is reserved for metadata`);
  if (!isSafetensorsDtype(tensor.dtype)) {
    throw new InputError(`${what} has unknown dtype ${JSON.stringify(tensor.dtype)} (expected one of ${Object.keys(DTYPES).join(', ')})`);
  }
  if (!Array.isArray(tensor.shape) || !tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InputError(`${what} has shape ${JSON.stringify(tensor.shape)}; expected non-negative integers`);
  }
  const { bytes, make } = DTYPES[tensor.dtype];
  const expectedType = make(new ArrayBuffer(0), 0, 0).constructor;
  if (!(tensor.data instanceof expectedType) && !(tensor.data instanceof Uint8Array)) {
    throw new InputError(`${what}: dtype ${tensor.dtype} needs a ${expectedType.name} (or raw bytes in a Uint8Array), got ${tensor.data?.constructor?.name}`);
  }
  const expected = tensor.shape.reduce((n, d) => n * d, 1) * bytes;
  if (tensor.data.byteLength !== expected) {
    throw new InputError(
      `${what} has ${tensor.data.byteLength} bytes of data but dtype ${tensor.dtype} with shape [${tensor.shape.join(', ')}] needs ${expected}`,
    );
  }
}
