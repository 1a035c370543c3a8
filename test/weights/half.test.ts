import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  bfloat16BitsToNumber,
  float16BitsToNumber,
  float32ToBfloat16,
  float32ToFloat16,
  numberToBfloat16Bits,
  numberToFloat16Bits,
} from '../../src/weights/half.ts';
import { Rng } from '../../src/core/rng.ts';

test('binary16 known bit patterns (IEEE 754)', () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [0, 0x0000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [1 / 3, 0x3555],
  ];
  for (const [value, bits] of cases) {
    assert.equal(numberToFloat16Bits(value), bits, `encode ${value}`);
    if (value !== 1 / 3) assert.equal(float16BitsToNumber(bits), value, `decode ${bits.toString(16)}`);
  }
  assert.equal(float16BitsToNumber(0x3555), 0.333251953125);
  assert.equal(numberToFloat16Bits(-0), 0x8000);
  assert.ok(Number.isNaN(float16BitsToNumber(numberToFloat16Bits(NaN))));
  assert.equal(numberToFloat16Bits(65520), 0x7c00, 'rounds up to infinity past the largest finite');
  assert.equal(numberToFloat16Bits(2 ** -25), 0, 'tie rounds to even (zero)');
  assert.equal(numberToFloat16Bits(1 + 2 ** -11), 0x3c00, 'tie between 1 and next rounds to even');
  assert.equal(numberToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02, 'tie rounds to even (up)');
});

test('bfloat16 known bit patterns', () => {
  assert.equal(numberToBfloat16Bits(1), 0x3f80);
  assert.equal(numberToBfloat16Bits(-2), 0xc000);
  assert.equal(bfloat16BitsToNumber(0x3f80), 1);
  assert.equal(numberToBfloat16Bits(1 + 2 ** -8), 0x3f80, 'tie to even');
  assert.equal(numberToBfloat16Bits(1 + 3 * 2 ** -8), 0x3f82, 'tie to even (up)');
  assert.ok(Number.isNaN(bfloat16BitsToNumber(numberToBfloat16Bits(NaN))));
});

test('matches numpy float16 on random values (when numpy is installed)', (t) => {
  const values = Float32Array.from(new Rng(3).normal(2000), (v, i) => v * 10 ** ((i % 15) - 9));
  const script = 'import sys,numpy as np; a=np.frombuffer(sys.stdin.buffer.read(),dtype="<f4"); sys.stdout.buffer.write(a.astype("<f2").tobytes())';
  const run = spawnSync('python3', ['-c', script], { input: Buffer.from(values.buffer) });
  if (run.status !== 0) {
    t.skip('python3 with numpy not available');
    return;
  }
  const expected = new Uint16Array(new Uint8Array(run.stdout).buffer);
  assert.deepEqual(float32ToFloat16(values), expected);
  // bfloat16 widening is exact, so encode -> decode must be within half a bf16 ulp.
  const bf = float32ToBfloat16(values);
  for (let i = 0; i < values.length; i++) {
    const back = bfloat16BitsToNumber(bf[i]);
    assert.ok(Math.abs(back - values[i]) <= Math.abs(values[i]) * 2 ** -8, `${values[i]} -> ${back}`);
  }
});
