import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import {
  encodeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  toFloat32,
  writeSafetensors,
  type SafetensorsTensor,
} from '../../src/weights/safetensors.ts';
import { float32ToBfloat16, float32ToFloat16 } from '../../src/weights/half.ts';

const dir = mkdtempSync(join(tmpdir(), 'gesso-st-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function everyDtype(): Record<string, SafetensorsTensor> {
  return {
    f64: { dtype: 'F64', shape: [3], data: new Float64Array([1.5, -2.25, 1e300]) },
    f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([0.5, -1, 3.25, 1e-20]) },
    f16: { dtype: 'F16', shape: [3], data: float32ToFloat16([1, -2, 0.5]) },
    bf16: { dtype: 'BF16', shape: [3], data: float32ToBfloat16([1, -2, 0.5]) },
    i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 2n ** 62n + 1n]) },
    i32: { dtype: 'I32', shape: [2], data: new Int32Array([-7, 2 ** 31 - 1]) },
    i16: { dtype: 'I16', shape: [3], data: new Int16Array([-32768, 0, 32767]) },
    i8: { dtype: 'I8', shape: [3], data: new Int8Array([-128, 1, 127]) },
    u8: { dtype: 'U8', shape: [1, 3], data: new Uint8Array([0, 128, 255]) },
    bool: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
    u16: { dtype: 'U16', shape: [1], data: new Uint16Array([65535]) },
    u32: { dtype: 'U32', shape: [1], data: new Uint32Array([4294967295]) },
    u64: { dtype: 'U64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([42]) },
  };
}

test('every dtype round-trips through a file, with metadata', () => {
  const path = join(dir, 'all.safetensors');
  const input = everyDtype();
  writeSafetensors(path, input, { format: 'pt', 'gesso.note': 'ünïcode ✓' });
  const { tensors, metadata } = readSafetensors(path);
  assert.deepEqual(metadata, { format: 'pt', 'gesso.note': 'ünïcode ✓' });
  assert.deepEqual([...tensors.keys()].sort(), Object.keys(input).sort());
  for (const [name, want] of Object.entries(input)) {
    const got = tensors.get(name)!;
    assert.equal(got.dtype, want.dtype, name);
    assert.deepEqual(got.shape, want.shape, name);
    assert.equal(got.data.constructor, want.data.constructor, name);
    assert.deepEqual([...got.data], [...want.data], name);
  }
  assert.deepEqual([...toFloat32(tensors.get('f16')!)], [1, -2, 0.5]);
  assert.deepEqual([...toFloat32(tensors.get('bf16')!)], [1, -2, 0.5]);
  assert.deepEqual([...toFloat32(tensors.get('i16')!)], [-32768, 0, 32767]);
});

test('reading bytes gives zero-copy views; layout is aligned and deterministic', () => {
  const input = everyDtype();
  const bytes = encodeSafetensors(input, { b: '2', a: '1' });
  // Same input in another insertion order gives identical bytes.
  const reversed = Object.fromEntries(Object.entries(input).reverse());
  assert.deepEqual(encodeSafetensors(reversed, { a: '1', b: '2' }), bytes);
  const header = readSafetensorsHeader(bytes);
  assert.equal(header.dataStart % 8, 0, 'data buffer starts 8-byte aligned');
  assert.equal(bytes[header.dataStart - 1], 0x20, 'header padded with spaces');
  const { tensors } = readSafetensors(bytes);
  for (const entry of header.entries) {
    const size = tensors.get(entry.name)!.data.BYTES_PER_ELEMENT;
    assert.equal(entry.dataOffsets[0] % size, 0, `${entry.name} aligned`);
    assert.equal(tensors.get(entry.name)!.data.buffer, bytes.buffer, `${entry.name} is a view`);
  }
  // Largest dtypes first, then by name.
  const order = ['f64', 'i64', 'u64', 'empty', 'f32', 'i32', 'scalar', 'u32', 'bf16', 'f16', 'i16', 'u16', 'bool', 'i8', 'u8'];
  assert.deepEqual(
    header.entries.map((e) => e.name),
    order,
  );
});

test('misaligned tensors in foreign bytes are copied, with the right values', () => {
  const bytes = encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float32Array([1.5, -3]) } });
  const shifted = new Uint8Array(bytes.length + 1).subarray(1);
  shifted.set(bytes);
  const x = readSafetensors(shifted).tensors.get('x')!;
  assert.deepEqual([...x.data], [1.5, -3]);
  assert.notEqual(x.data.buffer, shifted.buffer);
});

test('writing is atomic: no temp file left, bad input leaves the old file intact', () => {
  const path = join(dir, 'atomic.safetensors');
  writeSafetensors(path, { a: { dtype: 'U8', shape: [1], data: new Uint8Array([7]) } });
  const before = readFileSync(path);
  assert.throws(
    () => writeSafetensors(path, { a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }),
    (e: Error) => e instanceof InputError && /"a" has 8 bytes of data but dtype F32 with shape \[3\] needs 12/.test(e.message),
  );
  assert.throws(() => writeSafetensors(path, { a: { dtype: 'F32', shape: [1], data: new Float64Array(1) as never } }), /needs a Float32Array/);
  assert.throws(() => writeSafetensors(path, { a: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, { k: 3 as never }), /must be a string/);
  assert.throws(() => writeSafetensors(path, { __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }), /reserved/);
  assert.deepEqual(readFileSync(path), before);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('atomic')),
    ['atomic.safetensors'],
  );
  assert.equal(existsSync(join(dir, 'never.safetensors')), false);
});

// ---- crafted bad files -------------------------------------------------------------------------

function craft(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function refuses(name: string, bytes: Uint8Array, pattern: RegExp): void {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  for (const source of [path, bytes]) {
    assert.throws(
      () => readSafetensors(source, 'mem.safetensors'),
      (e: Error) => {
        assert.ok(e instanceof InputError, `${name}: ${e.constructor.name}: ${e.message}`);
        assert.match(e.message, pattern, name);
        assert.ok(e.message.includes(typeof source === 'string' ? path : 'mem.safetensors'), `${name}: names the file: ${e.message}`);
        return true;
      },
    );
  }
  assert.throws(() => readSafetensorsHeader(path), pattern);
}

const t = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

test('header length over the cap, or past the end of the file', () => {
  refuses('cap.safetensors', craft({}, new Uint8Array(0), 200_000_000n), /header length 200000000 exceeds the 100000000-byte limit/);
  refuses('huge.safetensors', craft({}, new Uint8Array(0), 2n ** 64n - 1n), /exceeds/);
  refuses('past.safetensors', craft({ a: t('U8', [4], [0, 4]) }, new Uint8Array(4), 5000n), /header length 5000 is larger than the file/);
  refuses('tiny.safetensors', new Uint8Array([1, 0, 0]), /shorter than the 8-byte header length/);
});

test('header that is not JSON, or not an object', () => {
  refuses('notjson.safetensors', craft('{"a": '), /not valid UTF-8 JSON/);
  refuses('array.safetensors', craft('[1,2]'), /expected a JSON object, got an array/);
  refuses('null.safetensors', craft('null'), /expected a JSON object, got null/);
  refuses(
    'badutf8.safetensors',
    craft('{"ab":1}').map((b, i) => (i === 10 ? 0xff : b)),
    /not valid UTF-8 JSON/,
  );
});

test('unknown dtype, bad shape, byte length mismatch', () => {
  refuses('dtype.safetensors', craft({ a: t('F128', [1], [0, 16]) }, new Uint8Array(16)), /tensor "a" has unknown dtype "F128"/);
  refuses('negdim.safetensors', craft({ a: t('U8', [-1], [0, 0]) }), /shape \[-1\]; expected an array of non-negative integers/);
  refuses('fracdim.safetensors', craft({ a: t('U8', [1.5], [0, 0]) }), /shape \[1.5\]/);
  refuses('strdim.safetensors', craft({ a: t('U8', ['2'], [0, 2]) }, new Uint8Array(2)), /shape \["2"\]/);
  refuses('length.safetensors', craft({ a: t('F32', [2, 3], [0, 20]) }, new Uint8Array(20)), /"a" is 20 bytes but dtype F32 with shape \[2, 3\] needs 24/);
  // Shape product that overflows doubles must not wrap around to a "matching" length.
  refuses('bigshape.safetensors', craft({ a: t('U8', [2 ** 52, 2 ** 52], [0, 0]) }), /needs 20282409603651670423947251286016/);
  refuses('notobj.safetensors', craft({ a: 5 }), /tensor "a" must be an object/);
});

test('offsets out of range, reversed, overflowing, overlapping, leaving holes', () => {
  const data = new Uint8Array(8);
  refuses('range.safetensors', craft({ a: t('U8', [16], [0, 16]) }, data), /"a" ends at data byte 16 but the data buffer has only 8 bytes/);
  refuses('reversed.safetensors', craft({ a: t('U8', [4], [8, 4]) }, data), /reversed data_offsets \[8, 4\]/);
  refuses(
    'overflow.safetensors',
    craft('{"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,18446744073709551616]}}', data),
    /beyond 9007199254740991 \(overflow\)/,
  );
  refuses('negoffset.safetensors', craft({ a: t('U8', [0], [-4, -4]) }, data), /data_offsets \[-4,-4\]; expected \[begin, end\]/);
  refuses('threeoffsets.safetensors', craft({ a: t('U8', [0], [0, 0, 0]) }, data), /expected \[begin, end\]/);
  refuses('overlap.safetensors', craft({ a: t('U8', [6], [0, 6]), b: t('U8', [4], [4, 8]) }, data), /tensors "a" and "b" overlap/);
  refuses('hole.safetensors', craft({ a: t('U8', [2], [0, 2]), b: t('U8', [4], [4, 8]) }, data), /hole in the data buffer: bytes 2..4/);
  refuses('tail.safetensors', craft({ a: t('U8', [4], [0, 4]) }, data), /bytes 4..8 after the last tensor/);
  refuses('lead.safetensors', craft({ a: t('U8', [4], [4, 8]) }, data), /hole in the data buffer: bytes 0..4/);
});

test('__metadata__ must map strings to strings', () => {
  refuses('meta.safetensors', craft({ __metadata__: { epochs: 3 } }), /"__metadata__" value for "epochs" must be a string, got 3/);
  refuses('metaarray.safetensors', craft({ __metadata__: ['x'] }), /"__metadata__" must be an object of strings/);
  // A "__proto__" key is data, not a prototype.
  const { metadata } = readSafetensors(craft('{"__metadata__":{"__proto__":"x"}}'));
  assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(metadata, '__proto__')?.value, 'x');
});

test('a truncated file is refused by name', () => {
  const good = encodeSafetensors({ w: { dtype: 'F32', shape: [64], data: new Float32Array(64) } });
  refuses('cut.safetensors', good.subarray(0, good.length - 10), /truncated/);
  refuses('cuthead.safetensors', good.subarray(0, 20), /larger than the file/);
});

test('zero-size tensors and an empty file with only a header are valid', () => {
  const bytes = craft({ a: t('F32', [0], [0, 0]), b: t('U8', [2], [0, 2]), c: t('I64', [0, 3], [2, 2]) }, new Uint8Array([5, 6]));
  const { tensors } = readSafetensors(bytes);
  assert.deepEqual([...tensors.get('b')!.data], [5, 6]);
  assert.equal(tensors.get('c')!.data.length, 0);
  assert.equal(readSafetensors(craft({})).tensors.size, 0);
});

test('interop: bytes match other implementations byte for byte', () => {
  // Published fixtures: the reference implementation's unpadded header (huggingface/safetensors
  // tensor.rs tests) and candle's output for one 2x2 F32 zeros tensor (header padded with spaces to 64).
  const reference = latin1('<\0\0\0\0\0\0\0{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}' + '\0'.repeat(16));
  const test1 = readSafetensors(reference).tensors.get('test')!;
  assert.equal(test1.dtype, 'I32');
  assert.deepEqual(test1.shape, [2, 2]);
  assert.deepEqual([...test1.data], [0, 0, 0, 0]);
  const candle = latin1('@\0\0\0\0\0\0\0{"t":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}       ' + '\0'.repeat(16));
  assert.deepEqual(encodeSafetensors({ t: { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } }), candle);
});

function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
