/**
 * gesso never unpickles: loading a Python pickle can run arbitrary code. This guard recognises
 * pickles and PyTorch checkpoints by their bytes, whatever the file is called, so that a `.ckpt`
 * renamed to `.safetensors` gets a clear refusal instead of a confusing parse error.
 *
 * Recognised:
 * - pickles of any protocol: the leading bytes must form a valid run of pickle opcodes with valid
 *   arguments (protocol 2+ starts with PROTO 0x80 and a version 2..5; protocols 0/1 start with an
 *   opcode such as `(`, `c`, `}`, `]`). Legacy `torch.save` files are protocol-2 pickles.
 * - zip archives (`PK\x03\x04`): a PyTorch checkpoint when an entry is `…/data.pkl`; any other zip is
 *   still refused, as it is neither safetensors nor ONNX.
 * Opcode table: CPython Lib/pickletools.py.
 */
import { closeSync, readSync } from 'node:fs';
import { openRegularFile } from '../core/safe-read.ts';
import { InputError } from '../core/errors.ts';

export type PickleFinding = { kind: 'pickle'; protocol: number | null } | { kind: 'torch-zip'; pickleEntry: string } | { kind: 'zip' };

/** Reads `length` bytes at `position` (fewer at the end of the data). */
export type ByteSource = { size: number; read(position: number, length: number): Uint8Array };

const HEAD_BYTES = 64 * 1024;
const MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024;

/** Refuses a pickle / PyTorch checkpoint / zip at `path`; returns quietly for anything else. */
export function assertNotPickle(path: string): void {
  const finding = detectPickleFile(path);
  if (finding) throw new InputError(describeRefusal(path, finding));
}

/** The same check for bytes already in memory; `name` goes into the error message. */
export function assertBytesNotPickle(bytes: Uint8Array, name: string): void {
  const finding = detectPickle(bytesSource(bytes));
  if (finding) throw new InputError(describeRefusal(name, finding));
}

export function detectPickleFile(path: string): PickleFinding | null {
  const { fd, size } = openRegularFile(path, { what: 'model file' });
  try {
    return detectPickle({
      size,
      read(position, length) {
        const out = new Uint8Array(Math.max(0, Math.min(length, size - position)));
        let done = 0;
        while (done < out.length) {
          const got = readSync(fd, out, done, out.length - done, position + done);
          if (got === 0) break;
          done += got;
        }
        return out.subarray(0, done);
      },
    });
  } finally {
    closeSync(fd);
  }
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (position, length) => bytes.subarray(position, position + length) };
}

export function detectPickle(source: ByteSource): PickleFinding | null {
  const head = source.read(0, HEAD_BYTES);
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b) {
    const marker = (head[2] << 8) | head[3];
    if (marker === 0x0304 || marker === 0x0506) return detectZip(source, head);
  }
  if (looksLikeSafetensors(head, source.size)) return null;
  return walkPickle(head, head.length === source.size);
}

export function describeRefusal(name: string, finding: PickleFinding): string {
  const what =
    finding.kind === 'pickle'
      ? `a Python pickle${finding.protocol === null ? '' : ` (protocol ${finding.protocol})`}`
      : finding.kind === 'torch-zip'
        ? `a PyTorch checkpoint (zip archive holding the pickle ${finding.pickleEntry})`
        : 'a zip archive';
  return (
    `${name} is ${what}, whatever its name says. gesso only loads safetensors and ONNX files and never ` +
    `unpickles, because loading a pickle can run arbitrary code. Convert it to safetensors with a tool you trust.`
  );
}

// A safetensors file starts with a little-endian u64 header length, then a JSON object. Any real
// pickle's first 8 bytes read as such a length would far exceed its file size.
function looksLikeSafetensors(head: Uint8Array, size: number): boolean {
  if (head.length < 9 || head[8] !== 0x7b) return false;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return view.getBigUint64(0, true) + 8n <= BigInt(size);
}

type Arg =
  | 0
  | 1
  | 2
  | 4
  | 8 // fixed-size binary argument
  | 'len1'
  | 'len4'
  | 'len8' // length prefix, then that many bytes
  | 'int'
  | 'long'
  | 'float'
  | 'quoted'
  | 'line'
  | 'global'; // protocol-0 text lines

const OPCODES = new Map<number, Arg>([
  ...[...'(.012NQRabd}elo])stu'].map((c): [number, Arg] => [c.charCodeAt(0), 0]),
  [ord('F'), 'float'],
  [ord('I'), 'int'],
  [ord('L'), 'long'],
  [ord('S'), 'quoted'],
  [ord('P'), 'line'],
  [ord('V'), 'line'],
  [ord('g'), 'int'],
  [ord('p'), 'int'],
  [ord('c'), 'global'],
  [ord('i'), 'global'],
  [ord('J'), 4],
  [ord('K'), 1],
  [ord('M'), 2],
  [ord('h'), 1],
  [ord('j'), 4],
  [ord('q'), 1],
  [ord('r'), 4],
  [ord('G'), 8],
  [ord('T'), 'len4'],
  [ord('U'), 'len1'],
  [ord('X'), 'len4'],
  [ord('B'), 'len4'],
  [ord('C'), 'len1'],
  // protocol 2+: 0x80 PROTO … 0x98 READONLY_BUFFER
  [0x80, 1],
  [0x81, 0],
  [0x82, 1],
  [0x83, 2],
  [0x84, 4],
  [0x85, 0],
  [0x86, 0],
  [0x87, 0],
  [0x88, 0],
  [0x89, 0],
  [0x8a, 'len1'],
  [0x8b, 'len4'],
  [0x8c, 'len1'],
  [0x8d, 'len8'],
  [0x8e, 'len8'],
  [0x8f, 0],
  [0x90, 0],
  [0x91, 0],
  [0x92, 0],
  [0x93, 0],
  [0x94, 0],
  [0x95, 8],
  [0x96, 'len8'],
  [0x97, 0],
  [0x98, 0],
]);

function ord(c: string): number {
  return c.charCodeAt(0);
}

const LINE_PATTERNS: Record<'int' | 'long' | 'float' | 'quoted' | 'line', RegExp> = {
  int: /^[-+]?\d+$/,
  long: /^[-+]?\d+L?$/,
  float: /^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|inf|nan)$/i,
  quoted: /^(['"]).*\1$/s,
  line: /^[^\n]*$/,
};
const IDENTIFIER = /^[A-Za-z_][\w.]*$/;
const MIN_OPCODES = 8;

/**
 * Walks the opcodes at the start of `head`. A pickle is a valid run that reaches STOP, or at least
 * MIN_OPCODES valid opcodes, or (after PROTO) runs valid to the end of the bytes we looked at.
 */
function walkPickle(head: Uint8Array, wholeFile: boolean): PickleFinding | null {
  let protocol: number | null = null;
  let pos = 0;
  let count = 0;
  const lineAt = (start: number): string | null => {
    const end = head.indexOf(0x0a, start);
    if (end < 0 || end - start > 4096) return null;
    return new TextDecoder('latin1').decode(head.subarray(start, end));
  };
  while (pos < head.length) {
    const op = head[pos];
    const arg = OPCODES.get(op);
    if (arg === undefined) break;
    if (op === 0x80) {
      if (count !== 0 || pos + 1 >= head.length || head[pos + 1] < 2 || head[pos + 1] > 5) break;
      protocol = head[pos + 1];
    }
    let next = pos + 1;
    if (typeof arg === 'number') {
      next += arg;
    } else if (arg === 'len1' || arg === 'len4' || arg === 'len8') {
      const width = arg === 'len1' ? 1 : arg === 'len4' ? 4 : 8;
      if (next + width > head.length) return ranOut(protocol, count, wholeFile);
      let length = 0;
      for (let i = width - 1; i >= 0; i--) length = length * 256 + head[next + i];
      next += width + length;
    } else {
      const lines = arg === 'global' ? 2 : 1;
      let ok = true;
      for (let k = 0; k < lines && ok; k++) {
        const line = lineAt(next);
        if (line === null) return ranOut(protocol, count, wholeFile);
        ok = arg === 'global' ? IDENTIFIER.test(line) : LINE_PATTERNS[arg].test(line);
        next += line.length + 1;
      }
      if (!ok) break;
    }
    count++;
    if (op === ord('.')) return count >= 2 ? { kind: 'pickle', protocol } : null;
    if (next > head.length) return ranOut(protocol, count, wholeFile);
    pos = next;
  }
  if (pos >= head.length) return ranOut(protocol, count, wholeFile);
  return count >= MIN_OPCODES ? { kind: 'pickle', protocol } : null;
}

// The walk reached the end of what we read while still valid.
function ranOut(protocol: number | null, count: number, wholeFile: boolean): PickleFinding | null {
  if (wholeFile) return count >= MIN_OPCODES ? { kind: 'pickle', protocol } : null; // no STOP: not a pickle
  return count >= MIN_OPCODES || (protocol !== null && count >= 2) ? { kind: 'pickle', protocol } : null;
}

// ---- zip archives (PKWARE APPNOTE.TXT: local header, end of central directory, zip64 records) ----

function detectZip(source: ByteSource, head: Uint8Array): PickleFinding {
  const names = [...firstLocalName(head), ...centralDirectoryNames(source)];
  const pickleEntry = names.find((n) => n === 'data.pkl' || n.endsWith('/data.pkl')) ?? names.find((n) => n.endsWith('.pkl'));
  return pickleEntry ? { kind: 'torch-zip', pickleEntry } : { kind: 'zip' };
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function firstLocalName(head: Uint8Array): string[] {
  if (head.length < 30 || view(head).getUint32(0, true) !== 0x04034b50) return [];
  const nameLength = view(head).getUint16(26, true);
  if (30 + nameLength > head.length) return [];
  return [new TextDecoder().decode(head.subarray(30, 30 + nameLength))];
}

function centralDirectoryNames(source: ByteSource): string[] {
  const tailStart = Math.max(0, source.size - (22 + 65535));
  const tail = source.read(tailStart, source.size - tailStart);
  const tv = view(tail);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return [];
  let entries = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if ((cdOffset === 0xffffffff || cdSize === 0xffffffff || entries === 0xffff) && eocd >= 20) {
    if (tv.getUint32(eocd - 20, true) !== 0x07064b50) return [];
    const zip64At = Number(tv.getBigUint64(eocd - 12, true));
    const record = source.read(zip64At, 56);
    if (record.length < 56 || view(record).getUint32(0, true) !== 0x06064b50) return [];
    entries = Number(view(record).getBigUint64(32, true));
    cdSize = Number(view(record).getBigUint64(40, true));
    cdOffset = Number(view(record).getBigUint64(48, true));
  }
  if (cdSize > MAX_CENTRAL_DIRECTORY || cdOffset + cdSize > source.size) return [];
  const cd = source.read(cdOffset, cdSize);
  const cv = view(cd);
  const names: string[] = [];
  let pos = 0;
  for (let k = 0; k < entries && pos + 46 <= cd.length; k++) {
    if (cv.getUint32(pos, true) !== 0x02014b50) break;
    const nameLength = cv.getUint16(pos + 28, true);
    const extraLength = cv.getUint16(pos + 30, true);
    const commentLength = cv.getUint16(pos + 32, true);
    if (pos + 46 + nameLength > cd.length) break;
    names.push(new TextDecoder().decode(cd.subarray(pos + 46, pos + 46 + nameLength)));
    pos += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}
