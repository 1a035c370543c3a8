// The runtime a recipe records: ORT's version and the CPU kernel family MLAS picks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { pixelDifference, recipeRuntime, remakeExpectation, withinRemakeTolerance } from '../../src/pipelines/remake.ts';
import { cpuKernelFamily, runtimeInfo, sameRuntime } from '../../src/runtime/runtime-info.ts';

test("runtimeInfo gives onnxruntime-node's version and this CPU's kernel family", () => {
  const here = runtimeInfo();
  assert.equal(here.ort, ort.env.versions.node);
  assert.match(here.cpu, /^(avx512|avx2|sse|arm64|.+-unknown|\w+)$/);
});

test('the kernel family comes from /proc/cpuinfo flags: avx512f, then avx2, else sse; other architectures by name', () => {
  const cpuinfo = (flags: string): string => `processor\t: 0\nmodel name\t: test\nflags\t\t: ${flags}\nbugs\t\t: none\n`;
  assert.equal(cpuKernelFamily(cpuinfo('fpu sse sse2 avx avx2 fma avx512f avx512bw'), 'x64'), 'avx512');
  assert.equal(cpuKernelFamily(cpuinfo('fpu sse sse2 avx avx2 fma'), 'x64'), 'avx2');
  assert.equal(cpuKernelFamily(cpuinfo('fpu sse sse2 avx'), 'x64'), 'sse');
  assert.equal(cpuKernelFamily(cpuinfo('fpu avx512_bf16 avx2'), 'x64'), 'avx2', 'avx512_bf16 is not avx512f');
  assert.equal(cpuKernelFamily(null, 'x64'), 'x64-unknown');
  assert.equal(cpuKernelFamily(cpuinfo('fp asimd'), 'arm64'), 'arm64');
});

test('remakeExpectation: exact on the same runtime, small differences on another or an unrecorded one', () => {
  const here = { ort: '1.30.0', cpu: 'avx512' };
  assert.deepEqual(remakeExpectation({ ...here }, here), { exact: true, message: 'same runtime (ORT 1.30.0, avx512 kernels): exact re-make expected' });
  const other = remakeExpectation({ ort: '1.30.0', cpu: 'avx2' }, here);
  assert.equal(other.exact, false);
  assert.match(
    other.message,
    /^different CPU kernels\/ORT \(recorded: ORT 1\.30\.0, avx2 kernels; here: ORT 1\.30\.0, avx512 kernels\): small pixel differences possible/,
  );
  assert.match(remakeExpectation(null, here).message, /recorded: not recorded/);
  assert.equal(sameRuntime({ ort: '1.29.0', cpu: 'avx512' }, here), false);
  assert.deepEqual(recipeRuntime({ runtime: { ort: '1.30.0', cpu: 'sse' } }), { ort: '1.30.0', cpu: 'sse' });
  assert.equal(recipeRuntime({ seed: 1 }), null, 'recipes made before gesso recorded the runtime');
});

test('pixelDifference and the re-make tolerance (2/255 max, 0.2/255 mean)', () => {
  const a = new Uint8Array(100).fill(100);
  const b = Uint8Array.from(a);
  b[7] = 102;
  assert.deepEqual(pixelDifference(a, b), { max: 2, mean: 0.02, at: 7 });
  assert.ok(withinRemakeTolerance(pixelDifference(a, b)));
  b[8] = 103;
  assert.ok(!withinRemakeTolerance(pixelDifference(a, b)), 'a 3/255 difference is too much');
  assert.ok(!withinRemakeTolerance(pixelDifference(a, new Uint8Array(100).fill(101))), 'a mean of 1/255 is too much');
  assert.throws(() => pixelDifference(a, new Uint8Array(3)), /100 and 3 values/);
});
