import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { crc32 } from 'node:zlib';
import { InputError } from '../../src/core/errors.ts';
import { assertNotPickle, detectPickleFile } from '../../src/weights/pickle-guard.ts';
import { encodeSafetensors, readSafetensors } from '../../src/weights/safetensors.ts';
import { validateOnnxFile } from '../../src/weights/onnx-external-data.ts';
import { encodeModel } from '../../src/graph/onnx-proto.ts';
import { Rng } from '../../src/core/rng.ts';

const dir = mkdtempSync(join(tmpdir(), 'gesso-pickle-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

// Bytes of real pickles (from CPython's pickle.dumps), so the test needs no Python.
const PICKLES: Record<string, [Uint8Array, number | null]> = {
  protocol4: [latin1('\x80\x04\x95\n\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.'), 4],
  protocol5: [latin1('\x80\x05N.'), 5],
  protocol2: [latin1('\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s.'), 2],
  protocol1: [latin1('}q\x00X\x01\x00\x00\x00aq\x01K\x01s.'), null],
  protocol0: [latin1('(dp0\nVa\np1\nI1\ns.'), null],
  // The classic code-execution pickle: calls os.system('echo pwned') on load.
  osSystem: [latin1("cos\nsystem\n(S'echo pwned'\ntR."), null],
  // Start of a legacy torch.save file: LONG1 magic number 0x1950a86a20f9469cfc6c, then more pickles.
  legacyTorch: [latin1('\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.\x80\x02}q\x00('), 2],
};

/** A minimal zip (stored entries, PKWARE APPNOTE 4.3), optionally with zip64 end records. */
function buildZip(entries: [string, Uint8Array][], zip64 = false): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data);
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const cd = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    cd.set(nameBytes, 46);
    parts.push(local, data);
    central.push(cd);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const tail: Uint8Array[] = [];
  if (zip64) {
    const record = new Uint8Array(56);
    const rv = new DataView(record.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setBigUint64(24, BigInt(entries.length), true);
    rv.setBigUint64(32, BigInt(entries.length), true);
    rv.setBigUint64(40, BigInt(cdSize), true);
    rv.setBigUint64(48, BigInt(offset), true);
    const locator = new Uint8Array(20);
    const locv = new DataView(locator.buffer);
    locv.setUint32(0, 0x07064b50, true);
    locv.setBigUint64(8, BigInt(offset + cdSize), true);
    locv.setUint32(16, 1, true);
    tail.push(record, locator);
  }
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, zip64 ? 0xffff : entries.length, true);
  ev.setUint16(10, zip64 ? 0xffff : entries.length, true);
  ev.setUint32(12, zip64 ? 0xffffffff : cdSize, true);
  ev.setUint32(16, zip64 ? 0xffffffff : offset, true);
  const all = [...parts, ...central, ...tail, eocd];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of all) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

function refused(path: string, pattern: RegExp): void {
  assert.throws(
    () => assertNotPickle(path),
    (e: Error) => {
      assert.ok(e instanceof InputError, e.message);
      assert.match(e.message, pattern);
      assert.ok(e.message.includes(path), 'names the file');
      assert.match(e.message, /only loads safetensors and ONNX/);
      return true;
    },
  );
}

test('pickles of every protocol are refused whatever the file is called', () => {
  for (const [name, [bytes, protocol]] of Object.entries(PICKLES)) {
    for (const ext of ['.ckpt', '.pt', '.pth', '.bin', '.safetensors', '.onnx']) {
      const path = join(dir, name + ext);
      writeFileSync(path, bytes);
      refused(path, protocol === null ? /is a Python pickle,/ : new RegExp(`is a Python pickle \\(protocol ${protocol}\\)`));
    }
  }
});

test('a pickle named .safetensors is refused by readSafetensors, and as .onnx by validateOnnxFile', () => {
  const path = join(dir, 'model.safetensors');
  writeFileSync(path, PICKLES.protocol4[0]);
  assert.throws(() => readSafetensors(path), /model\.safetensors is a Python pickle \(protocol 4\).*never unpickles/);
  assert.throws(() => readSafetensors(PICKLES.protocol2[0], 'upload.safetensors'), /upload\.safetensors is a Python pickle \(protocol 2\)/);
  const onnx = join(dir, 'model.onnx');
  writeFileSync(onnx, PICKLES.osSystem[0]);
  assert.throws(() => validateOnnxFile(onnx), /model\.onnx is a Python pickle/);
});

test('PyTorch zip checkpoints are refused, found by local header or central directory (zip64 too)', () => {
  const pkl = PICKLES.protocol2[0];
  const cases: [string, Uint8Array][] = [
    [
      'first.ckpt',
      buildZip([
        ['archive/data.pkl', pkl],
        ['archive/data/0', new Uint8Array(16)],
        ['archive/version', latin1('3\n')],
      ]),
    ],
    [
      'later.pt',
      buildZip([
        ['archive/version', latin1('3\n')],
        ['archive/data/0', new Uint8Array(16)],
        ['archive/data.pkl', pkl],
      ]),
    ],
    [
      'zip64.safetensors',
      buildZip(
        [
          ['archive/version', latin1('3\n')],
          ['model/data.pkl', pkl],
        ],
        true,
      ),
    ],
  ];
  for (const [name, bytes] of cases) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    refused(path, /is a PyTorch checkpoint \(zip archive holding the pickle (archive|model)\/data\.pkl\)/);
  }
  const plain = join(dir, 'plain.bin');
  writeFileSync(plain, buildZip([['readme.txt', latin1('hello')]]));
  refused(plain, /is a zip archive,/);
});

test('checkpoints written by CPython pickle/zipfile are refused (when python3 is installed)', (t) => {
  const script = [
    'import pickle, zipfile, sys',
    'd = sys.argv[1]',
    "open(d + '/real.pth', 'wb').write(pickle.dumps({'w': [1.0, 2.0]}, protocol=4))",
    "z = zipfile.ZipFile(d + '/real.ckpt', 'w')",
    "z.writestr('real/data.pkl', pickle.dumps({'w': 1}, protocol=2))",
    "z.writestr('real/data/0', bytes(64))",
    'z.close()',
  ].join('\n');
  const run = spawnSync('python3', ['-c', script, dir]);
  if (run.status !== 0) {
    t.skip('python3 not available');
    return;
  }
  refused(join(dir, 'real.pth'), /Python pickle \(protocol 4\)/);
  refused(join(dir, 'real.ckpt'), /PyTorch checkpoint .*real\/data\.pkl/);
});

test('safetensors, ONNX, text and random files are not mistaken for pickles', () => {
  // A header of exactly 640 bytes makes the file start 0x80 0x02, like a protocol-2 pickle.
  let st: Uint8Array = new Uint8Array(0);
  for (let pad = 0; pad < 700 && !(st[0] === 0x80 && st[1] === 0x02); pad++) {
    st = encodeSafetensors({ x: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, { pad: 'x'.repeat(pad) });
  }
  assert.equal(st[0], 0x80);
  assert.equal(st[1], 0x02);
  const stPath = join(dir, 'tricky.safetensors');
  writeFileSync(stPath, st);
  assert.equal(detectPickleFile(stPath), null);
  assert.equal(readSafetensors(stPath).tensors.size, 1);
  st = encodeSafetensors({});
  const onnx = encodeModel({
    ir_version: 8,
    opset_import: [{ version: 17 }],
    graph: { name: 'g', node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }] },
  });
  const rng = new Rng(9);
  const samples: [string, Uint8Array][] = [
    ['empty.safetensors', st],
    ['model.onnx', onnx],
    ['notes.txt', latin1('I like cats.\n(and dogs)\n')],
    ['prompt.txt', latin1('cats.')],
    ['empty.bin', new Uint8Array(0)],
    ['random.bin', Uint8Array.from({ length: 4096 }, () => rng.int(256))],
  ];
  for (const [name, bytes] of samples) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    assert.equal(detectPickleFile(path), null, name);
  }
});

test('a missing path or a folder gets a clear InputError', () => {
  assert.throws(
    () => assertNotPickle(join(dir, 'nope.ckpt')),
    (e: Error) => e instanceof InputError && /model file not found: ".*nope\.ckpt"/.test(e.message),
  );
  assert.throws(
    () => assertNotPickle(dir),
    (e: Error) => e instanceof InputError && /is a folder; expected a regular file/.test(e.message),
  );
  assert.throws(() => readSafetensors(join(dir, 'nope.safetensors')), /model file not found/);
});
