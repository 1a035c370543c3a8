// The test runner's assert preload (test/helpers/assert-message.mjs): a failing assert.ok without a
// message in a tsx-compiled file fails at once with its call site, instead of Node spending minutes
// parsing the compiled line for a message (nodejs/node#52677) while everything else in the process waits.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

test('a message-less assert.ok failure is reported at once, naming its line', () => {
  const started = performance.now();
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', './test/helpers/assert-message.mjs', '--test', 'test/harness/long-line-assert.fixture.ts'],
    // Without NODE_TEST_CONTEXT: the fixture's runner reports to us as its own top-level run.
    { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
  );
  const seconds = (performance.now() - started) / 1000;
  assert.equal(run.signal, null, `the fixture did not finish within 60 s (${seconds.toFixed(1)} s): ${run.stdout.slice(-500)}`);
  assert.equal(run.status, 1, 'the fixture fails');
  assert.match(run.stdout, /assert\.ok failed at .*long-line-assert\.fixture\.ts:\d+:\d+\): the value is false/);
});
