import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childEnv, lastJsonLine, runChild, runJsonChild } from '../../bench/lib/child.ts';

const node = process.execPath;

test('removed variables are gone in the child only', async () => {
  process.env.GESSO_BENCH_TEST_VAR = 'parent';
  process.env.GESSO_BENCH_KEEP_VAR = 'kept';
  try {
    const script =
      'console.log(JSON.stringify({ gone: process.env.GESSO_BENCH_TEST_VAR ?? null, kept: process.env.GESSO_BENCH_KEEP_VAR, set: process.env.GESSO_BENCH_SET_VAR }))';
    const json = await runJsonChild(node, ['-e', script], 'env child', { unsetEnv: ['GESSO_BENCH_TEST_VAR'], setEnv: { GESSO_BENCH_SET_VAR: 'child' } });
    assert.deepEqual(json, { gone: null, kept: 'kept', set: 'child' });
    assert.equal(process.env.GESSO_BENCH_TEST_VAR, 'parent');
  } finally {
    delete process.env.GESSO_BENCH_TEST_VAR;
    delete process.env.GESSO_BENCH_KEEP_VAR;
  }
});

test('childEnv copies, removes, then sets', () => {
  const base = { A: '1', B: '2' };
  assert.deepEqual(childEnv(base, ['A'], { C: '3' }), { B: '2', C: '3' });
  assert.deepEqual(base, { A: '1', B: '2' });
});

test('the last non-empty stdout line is the result', () => {
  assert.deepEqual(lastJsonLine('progress\n{"a":1}\n{"b":2}\n\n', 'x'), { b: 2 });
  assert.throws(() => lastJsonLine('', 'quiet peer'), /quiet peer printed nothing/);
  assert.throws(() => lastJsonLine('{"a":1}\ndone\n', 'chatty peer'), /chatty peer: last stdout line is not JSON: done/);
});

test('a failing child reports its exit code and stderr tail', async () => {
  await assert.rejects(
    runJsonChild(node, ['-e', 'console.error("torch is missing"); process.exit(3)'], 'torch peer', { echoStderr: false }),
    /torch peer exited with 3: torch is missing/,
  );
});

test('a child past its timeout is killed', async () => {
  const result = await runChild(node, ['-e', 'setTimeout(() => {}, 60_000)'], { timeoutMs: 200 });
  assert.equal(result.timedOut, true);
  assert.equal(result.signal, 'SIGKILL');
});
