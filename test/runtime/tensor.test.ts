import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/core/errors.ts';
import { cloneTensor, scalar, sizeOf, tensor, zeros } from '../../src/runtime/tensor.ts';

test('sizeOf multiplies dims; a scalar has one element', () => {
  assert.equal(sizeOf([2, 3, 4]), 24);
  assert.equal(sizeOf([]), 1);
  assert.equal(sizeOf([5, 0]), 0);
});

test('tensor keeps a matching typed array and converts plain arrays', () => {
  const data = new Float32Array([1, 2, 3, 4, 5, 6]);
  const t = tensor('float32', [2, 3], data);
  assert.equal(t.data, data);
  assert.deepEqual(tensor('int64', [2], [3, 4n]).data, BigInt64Array.from([3n, 4n]));
  assert.deepEqual(tensor('bool', [2], [1, 0]).data, Uint8Array.from([1, 0]));
  assert.deepEqual(tensor('int8', [1], [-3]).data, Int8Array.from([-3]));
  assert.deepEqual(tensor('float16', [1], [0x3c00]).data, Uint16Array.from([0x3c00]));
});

test('tensor refuses data of the wrong length or kind, and bad dims', () => {
  assert.throws(
    () => tensor('float32', [2, 3], new Float32Array(5)),
    (e: Error) => e instanceof InputError && e.message === 'tensor float32 [2, 3]: needs 6 values, got 5',
  );
  assert.throws(() => tensor('int64', [2], new Int32Array(2)), /tensor int64 \[2\]: data is a Int32Array, expected a BigInt64Array/);
  assert.throws(() => tensor('float32', [2, -1]), /dim -1 is not a non-negative integer/);
  assert.throws(() => tensor('float32', [1.5]), /dim 1.5/);
  assert.throws(() => tensor('complex64' as 'float32', [1]), /unknown dtype "complex64"/);
});

test('zeros, scalar and cloneTensor', () => {
  assert.deepEqual(zeros('int32', [2, 2]), { dtype: 'int32', dims: [2, 2], data: new Int32Array(4) });
  assert.deepEqual(scalar('float64', 2.5), { dtype: 'float64', dims: [], data: Float64Array.from([2.5]) });
  assert.deepEqual(scalar('int64', 7).data, BigInt64Array.from([7n]));
  const a = tensor('float32', [2], [1, 2]);
  const b = cloneTensor(a);
  b.data[0] = 9;
  b.dims[0] = 5;
  assert.deepEqual(a, tensor('float32', [2], [1, 2]));
});
