import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { defaultThreads } from '../../src/runtime/threads.ts';

test('one intra-op thread per core by default', () => {
  const cores = availableParallelism();
  assert.deepEqual(defaultThreads({}), { intraOp: cores, interOp: cores });
  assert.deepEqual(defaultThreads({ GESSO_THREADS: '' }), { intraOp: cores, interOp: cores });
});

test('GESSO_THREADS overrides it, and a bad value names itself', () => {
  assert.deepEqual(defaultThreads({ GESSO_THREADS: '3' }), { intraOp: 3, interOp: 3 });
  assert.throws(() => defaultThreads({ GESSO_THREADS: 'many' }), /GESSO_THREADS="many": expected a whole number of threads from 1 to \d+/);
  assert.throws(() => defaultThreads({ GESSO_THREADS: '0' }), /GESSO_THREADS="0"/);
  assert.throws(() => defaultThreads({ GESSO_THREADS: '1.5' }), /GESSO_THREADS="1.5"/);
});
