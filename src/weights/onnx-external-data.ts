/**
 * Confines an ONNX model's external data to its own folder. ONNX Runtime opens whatever path a
 * tensor's `external_data.location` names (relative to the model file), so a hostile model could read
 * any file the user can read, or a symlink / hardlink placed next to it. Before ORT sees a model,
 * every external tensor must name a regular file inside the model folder, reached without symlinks,
 * with one link only, and with its byte range inside that file.
 * Keys and semantics: onnx/onnx.proto, TensorProto.external_data ("location", "offset", "length",
 * "checksum"); location is a POSIX path relative to the model file's folder.
 */
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, resolve, sep, win32 } from 'node:path';
import { InputError } from '../core/errors.ts';
import { assertNotPickle } from './pickle-guard.ts';
import { scanOnnxFile, type OnnxScan, type ScannedTensor } from './onnx-scan.ts';

export interface OnnxExternalDataSummary {
  /** Initializers of the main graph. */
  initializers: number;
  /** Every TensorProto seen (initializers, attributes, subgraphs). */
  tensors: number;
  externalTensors: number;
  /** Locations used, as written in the model, sorted. */
  externalFiles: string[];
  externalBytes: number;
}

const KNOWN_KEYS = new Set(['location', 'offset', 'length', 'checksum']);

// TensorProto.DataType -> bytes per element (4-bit types: half a byte; STRING has no fixed size).
const ELEMENT_BYTES: Record<number, number> = {
  1: 4,
  2: 1,
  3: 1,
  4: 2,
  5: 2,
  6: 4,
  7: 8,
  9: 1,
  10: 2,
  11: 8,
  12: 4,
  13: 8,
  14: 8,
  15: 16,
  16: 2,
  17: 1,
  18: 1,
  19: 1,
  20: 1,
  21: 0.5,
  22: 0.5,
  23: 0.5,
};

/**
 * Everything the pipeline loader checks before handing a file to ORT: not a pickle, a whole
 * (untruncated) ONNX protobuf with a graph, and external data confined to the model folder.
 */
export function validateOnnxFile(path: string): OnnxExternalDataSummary {
  assertNotPickle(path);
  return checkOnnxExternalData(path);
}

/** Scans the model and checks every external-data reference; returns what it found. */
export function checkOnnxExternalData(path: string): OnnxExternalDataSummary {
  const scan = scanOnnxFile(path);
  if (!scan.hasGraph) throw new InputError(`${path}: not an ONNX model: it has no graph`);
  return checkScan(path, scan);
}

function checkScan(path: string, scan: OnnxScan): OnnxExternalDataSummary {
  const modelDir = realpathSync(dirname(resolve(path)));
  const files = new Map<string, number>(); // location -> file size, checked once per file
  let externalBytes = 0;
  let externalTensors = 0;
  for (const tensor of scan.tensors) {
    if (!tensor.external) continue;
    externalTensors++;
    const what = `${path}: tensor ${JSON.stringify(tensor.name)} (${tensor.where})`;
    const info = parseExternalData(what, tensor);
    let size = files.get(info.location);
    if (size === undefined) {
      size = checkLocation(what, modelDir, info.location);
      files.set(info.location, size);
    }
    const expected = expectedBytes(tensor);
    if (info.length !== null && expected !== null && info.length !== expected) {
      throw new InputError(`${what}: external data length ${info.length} does not match its dims and type (${expected} bytes)`);
    }
    const length = info.length ?? expected;
    if (length === null) {
      throw new InputError(`${what}: external data has no length and its size cannot be derived from dims/data_type`);
    }
    if (info.offset + length > size) {
      throw new InputError(
        `${what}: external data bytes ${info.offset}..${info.offset + length} lie beyond the end of ` + `${JSON.stringify(info.location)} (${size} bytes)`,
      );
    }
    externalBytes += length;
  }
  return {
    initializers: scan.initializerCount,
    tensors: scan.tensors.length,
    externalTensors,
    externalFiles: [...files.keys()].sort(),
    externalBytes,
  };
}

function parseExternalData(what: string, tensor: ScannedTensor): { location: string; offset: number; length: number | null } {
  const values = new Map<string, string>();
  for (const { key, value } of tensor.externalData) {
    if (!KNOWN_KEYS.has(key)) {
      throw new InputError(`${what}: unknown external_data key ${JSON.stringify(key)} (expected location, offset, length, checksum)`);
    }
    if (values.has(key)) throw new InputError(`${what}: external_data key ${JSON.stringify(key)} appears twice`);
    values.set(key, value);
  }
  const location = values.get('location');
  if (location === undefined || location === '') throw new InputError(`${what}: data_location is EXTERNAL but no location is given`);
  const number = (key: string): number | null => {
    const text = values.get(key);
    if (text === undefined) return null;
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
      throw new InputError(`${what}: external_data ${key} ${JSON.stringify(text)} is not a non-negative integer`);
    }
    return value;
  };
  return { location, offset: number('offset') ?? 0, length: number('length') };
}

function expectedBytes(tensor: ScannedTensor): number | null {
  const size = ELEMENT_BYTES[tensor.dataType];
  if (size === undefined || tensor.dims === null) return null;
  const count = tensor.dims.reduce((n, d) => n * d, 1);
  const bytes = Math.ceil(count * size);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** Checks one location and returns the file's size. */
/** How many names inside `dir` (searched to a few thousand entries) point at the file (dev, ino). */
function linksInside(dir: string, dev: number, ino: number): number {
  let count = 0;
  let budget = 5000;
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (--budget < 0) return;
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const s = lstatSync(path);
        if (s.dev === dev && s.ino === ino) count++;
      }
    }
  };
  walk(dir);
  return count;
}

function checkLocation(what: string, modelDir: string, location: string): number {
  const quoted = JSON.stringify(location);
  if (location.includes('\0')) throw new InputError(`${what}: external data location ${quoted} contains a NUL byte`);
  if (posix.isAbsolute(location) || win32.isAbsolute(location)) {
    throw new InputError(`${what}: external data location ${quoted} is an absolute path; it must be relative to the model folder ${modelDir}`);
  }
  if (location.split(/[\\/]/).includes('..')) {
    throw new InputError(`${what}: external data location ${quoted} contains "..": it must stay inside the model folder ${modelDir}`);
  }
  const target = resolve(modelDir, location);
  const inside = relative(modelDir, target);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    throw new InputError(`${what}: external data location ${quoted} resolves outside the model folder ${modelDir}`);
  }
  // Walk each component so a symlinked subfolder is caught as well as a symlinked file.
  let current = modelDir;
  for (const part of inside.split(sep)) {
    current = join(current, part);
    let stat;
    try {
      stat = lstatSync(current);
    } catch {
      throw new InputError(`${what}: external data file ${quoted} does not exist in the model folder ${modelDir}`);
    }
    if (stat.isSymbolicLink()) {
      throw new InputError(`${what}: external data location ${quoted} goes through a symlink (${current}); symlinks are not followed`);
    }
  }
  const stat = statSync(target);
  if (!stat.isFile()) throw new InputError(`${what}: external data location ${quoted} is not a regular file`);
  if (stat.nlink > 1 && linksInside(modelDir, stat.dev, stat.ino) < stat.nlink) {
    // A link outside the folder lets whoever controls it change what ORT reads (cp -al copies share files so).
    throw new InputError(
      `${what}: external data file ${quoted} has ${stat.nlink} hard links, some outside the model folder (a \`cp -al\` or deduplicated copy?); ` +
        `gesso reads only files the folder owns: make it an independent copy (\`cp ${JSON.stringify(target)} ${JSON.stringify(target + '.copy')} && mv ${JSON.stringify(target + '.copy')} ${JSON.stringify(target)}\`), or copy the folder with \`cp -r\``,
    );
  }
  if (!realpathSync(target).startsWith(modelDir.endsWith(sep) ? modelDir : modelDir + sep)) {
    throw new InputError(`${what}: external data location ${quoted} resolves outside the model folder ${modelDir}`);
  }
  return stat.size;
}
