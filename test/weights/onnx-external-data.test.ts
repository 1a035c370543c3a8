import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InputError } from '../../src/core/errors.ts';
import { decodeModel, encodeModel, type GraphProtoObject, type TensorProtoObject } from '../../src/graph/onnx-proto.ts';
import { validateOnnxFile } from '../../src/weights/onnx-external-data.ts';
import { scanOnnxBytes, scanOnnxFile } from '../../src/weights/onnx-scan.ts';

const root = mkdtempSync(join(tmpdir(), 'gesso-onnx-ext-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const W = new Float32Array([1, 2, 3, 4]);
const PAD = 8; // W sits after 8 junk bytes, so the offset is exercised
const vec4 = { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 4 }] } } };

function externalW(location: string, offset = PAD, length = 16): TensorProtoObject {
  return {
    name: 'w',
    dims: [4],
    data_type: 1,
    data_location: 1,
    external_data: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

/** y = x + w, with w stored outside the .onnx file. */
function addModel(w: TensorProtoObject, extra: Partial<GraphProtoObject> = {}): Uint8Array {
  return encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'gesso-test',
    graph: {
      name: 'add',
      node: [{ op_type: 'Add', input: ['x', 'w'], output: ['y'] }, ...(extra.node ?? [])],
      initializer: [w, ...(extra.initializer ?? [])],
      input: [{ name: 'x', type: vec4 }],
      output: [{ name: 'y', type: vec4 }, ...(extra.output ?? [])],
    },
  });
}

function weightsBytes(): Uint8Array {
  const bytes = new Uint8Array(PAD + 16).fill(0xee);
  bytes.set(new Uint8Array(W.buffer), PAD);
  return bytes;
}

let caseNo = 0;
/** A fresh model folder with model.onnx and weights.bin; returns the folder. */
function modelFolder(onnx: Uint8Array): string {
  const folder = join(root, `case${caseNo++}`);
  mkdirSync(folder);
  writeFileSync(join(folder, 'model.onnx'), onnx);
  writeFileSync(join(folder, 'weights.bin'), weightsBytes());
  return folder;
}

function refused(folder: string, pattern: RegExp): void {
  const path = join(folder, 'model.onnx');
  assert.throws(
    () => validateOnnxFile(path),
    (e: Error) => {
      assert.ok(e instanceof InputError, `${e.constructor.name}: ${e.message}`);
      assert.match(e.message, pattern);
      assert.ok(e.message.startsWith(path), `names the file: ${e.message}`);
      return true;
    },
  );
}

test('a model with external weights inside its folder passes, and ORT loads and runs it', async () => {
  const folder = modelFolder(addModel(externalW('weights.bin')));
  const path = join(folder, 'model.onnx');
  assert.deepEqual(validateOnnxFile(path), {
    initializers: 1,
    tensors: 1,
    externalTensors: 1,
    externalFiles: ['weights.bin'],
    externalBytes: 16,
  });
  const session = await ort.InferenceSession.create(path);
  try {
    const { y } = await session.run({ x: new ort.Tensor('float32', new Float32Array([10, 20, 30, 40]), [4]) });
    assert.deepEqual([...(y.data as Float32Array)], [11, 22, 33, 44]);
  } finally {
    await session.release();
  }
  // A subfolder is fine too, and length may be omitted (derived from dims and type).
  const sub = modelFolder(addModel({ ...externalW('parts/w.bin', 0), external_data: [{ key: 'location', value: 'parts/w.bin' }] }));
  mkdirSync(join(sub, 'parts'));
  writeFileSync(join(sub, 'parts', 'w.bin'), new Uint8Array(W.buffer));
  assert.equal(validateOnnxFile(join(sub, 'model.onnx')).externalBytes, 16);
});

test('paths that leave the model folder are refused', () => {
  const parentFile = join(root, 'escape.bin');
  writeFileSync(parentFile, weightsBytes());
  refused(modelFolder(addModel(externalW('../escape.bin'))), /location "..\/escape.bin" contains ".."/);
  refused(modelFolder(addModel(externalW('sub/../../escape.bin'))), /contains ".."/);
  refused(modelFolder(addModel(externalW('..\\escape.bin'))), /contains ".."/);
  refused(modelFolder(addModel(externalW(parentFile))), /is an absolute path; it must be relative to the model folder/);
  refused(modelFolder(addModel(externalW('/etc/passwd', 0, 16))), /"\/etc\/passwd" is an absolute path/);
  refused(modelFolder(addModel(externalW('C:\\weights.bin'))), /is an absolute path/);
  refused(modelFolder(addModel(externalW('.'))), /resolves outside the model folder|not a regular file/);
  // ORT's internal tag for "offset is a memory address" must never come from a file.
  refused(modelFolder(addModel(externalW('*/_ORT_MEM_ADDR_/*'))), /"\*\/_ORT_MEM_ADDR_\/\*" does not exist in the model folder/);
});

test('symlinks, hardlinks and missing files are refused', () => {
  const outside = join(root, 'outside.bin');
  writeFileSync(outside, weightsBytes());

  const link = modelFolder(addModel(externalW('link.bin')));
  symlinkSync(outside, join(link, 'link.bin'));
  refused(link, /"link.bin" goes through a symlink/);

  const linkedDir = modelFolder(addModel(externalW('shared/weights.bin')));
  mkdirSync(join(root, 'shared-target'));
  writeFileSync(join(root, 'shared-target', 'weights.bin'), weightsBytes());
  symlinkSync(join(root, 'shared-target'), join(linkedDir, 'shared'));
  refused(linkedDir, /"shared\/weights.bin" goes through a symlink/);

  const hard = modelFolder(addModel(externalW('hard.bin')));
  linkSync(outside, join(hard, 'hard.bin'));
  refused(hard, /"hard.bin" has 2 hard links/);

  refused(modelFolder(addModel(externalW('missing.bin'))), /external data file "missing.bin" does not exist in the model folder/);
});

test('byte ranges must lie inside the file and match the tensor size', () => {
  refused(modelFolder(addModel(externalW('weights.bin', 1000))), /bytes 1000..1016 lie beyond the end of "weights.bin" \(24 bytes\)/);
  refused(modelFolder(addModel(externalW('weights.bin', 16))), /bytes 16..32 lie beyond the end/);
  refused(modelFolder(addModel(externalW('weights.bin', PAD, 12))), /length 12 does not match its dims and type \(16 bytes\)/);
  const bad = externalW('weights.bin');
  bad.external_data!.push({ key: 'offset', value: '0' });
  refused(modelFolder(addModel(bad)), /key "offset" appears twice/);
  refused(
    modelFolder(
      addModel({
        ...externalW('weights.bin'),
        external_data: [
          { key: 'location', value: 'weights.bin' },
          { key: 'offset', value: '-8' },
        ],
      }),
    ),
    /offset "-8" is not a non-negative integer/,
  );
  refused(modelFolder(addModel({ ...externalW('weights.bin'), external_data: [{ key: 'basepath', value: '/' }] })), /unknown external_data key "basepath"/);
  refused(modelFolder(addModel({ ...externalW('weights.bin'), external_data: [] })), /no location is given/);
});

test('truncated and non-ONNX files are refused with the file named', () => {
  const good = addModel(externalW('weights.bin'));
  for (const cut of [1, 7, Math.floor(good.length / 2), good.length - 3]) {
    refused(modelFolder(good.subarray(0, cut)), /ONNX file is truncated or corrupt|not an ONNX model|not a valid ONNX file/);
  }
  refused(modelFolder(good.subarray(0, good.length - 3)), /ONNX file is truncated or corrupt: varint runs past byte/);
  refused(modelFolder(good.subarray(0, good.length - 1)), /ONNX file is truncated or corrupt: field at byte \d+ claims 2 bytes, past the end/);
  refused(modelFolder(new Uint8Array(0)), /not an ONNX model: it has no graph/);
  refused(modelFolder(new TextEncoder().encode('{"not": "onnx"}')), /not a valid ONNX file|truncated or corrupt/);
  // A safetensors file renamed to .onnx.
  const st = new Uint8Array(8 + 8 + 4);
  new DataView(st.buffer).setBigUint64(0, 8n, true);
  st.set(new TextEncoder().encode('{"x":{}}'), 8);
  refused(modelFolder(st), /not a valid ONNX file|truncated or corrupt/);
});

test('external data hidden in node attributes and subgraphs is checked too', () => {
  const constant = { ...externalW('../escape.bin'), name: 'c' };
  const withConstant = addModel(externalW('weights.bin'), {
    node: [{ op_type: 'Constant', output: ['c'], attribute: [{ name: 'value', type: 4, t: constant }] }],
    output: [{ name: 'c', type: vec4 }],
  });
  refused(modelFolder(withConstant), /tensor "c" \(graph.node.attribute\): external data location "..\/escape.bin" contains ".."/);

  const branch: GraphProtoObject = {
    name: 'then',
    node: [{ op_type: 'Identity', input: ['t'], output: ['o'] }],
    initializer: [{ ...externalW('/etc/shadow'), name: 't' }],
    output: [{ name: 'o', type: vec4 }],
  };
  const withIf = addModel(externalW('weights.bin'), {
    node: [{ op_type: 'If', input: ['cond'], output: ['z'], attribute: [{ name: 'then_branch', type: 5, g: branch } as never] }],
  });
  refused(modelFolder(withIf), /tensor "t" \(graph.node.attribute.g.initializer\).*absolute path/);
});

test('the scanner sees the same tensors as a full decode and skips raw_data without reading it', () => {
  const big = new Uint8Array(3 << 20).fill(7); // 3 MB of raw_data, larger than the read window
  const graph: GraphProtoObject = {
    name: 'g',
    node: [
      { op_type: 'Constant', output: ['k'], attribute: [{ name: 'value', type: 4, t: { name: 'k', dims: [2], data_type: 7, raw_data: new Uint8Array(16) } }] },
    ],
    initializer: [
      { name: 'a', dims: [786432], data_type: 1, raw_data: big },
      { name: 'b', dims: [2, 3], data_type: 1, float_data: [1, 2, 3, 4, 5, 6] },
      externalW('weights.bin'),
      { name: 'big_dims', dims: [2 ** 40, 3], data_type: 10, raw_data: new Uint8Array(0) },
    ],
  };
  const bytes = encodeModel({ ir_version: 8, opset_import: [{ version: 17 }], graph });
  const decoded = decodeModel(bytes).graph!;
  const scanned = scanOnnxBytes(bytes);
  const fromFile = scanOnnxFile(join(modelFolder(bytes), 'model.onnx'));
  assert.deepEqual(fromFile, scanned);
  assert.equal(scanned.initializerCount, decoded.initializer!.length);
  assert.equal(scanned.irVersion, 8);
  const initializers = scanned.tensors.filter((t) => t.where === 'graph.initializer');
  assert.deepEqual(
    initializers.map((t) => [t.name, t.dims, t.dataType, t.external]),
    decoded.initializer!.map((t) => [t.name, t.dims, t.data_type, t.data_location === 1]),
  );
  assert.deepEqual(scanned.tensors.find((t) => t.where === 'graph.node.attribute')?.name, 'k');
  assert.deepEqual(initializers[2].externalData, externalW('weights.bin').external_data);
});
