import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gflopsPerSecond, median, timeRounds } from '../../bench/lib/rounds.ts';

test('median of odd and even counts, input left unsorted', () => {
  const xs = [5, 1, 3];
  assert.equal(median(xs), 3);
  assert.deepEqual(xs, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /no values/);
});

test('timeRounds runs warm-up plus rounds and times only the rounds', async () => {
  let calls = 0;
  const ms = await timeRounds(
    async () => {
      calls++;
    },
    { warmup: 2, rounds: 3 },
  );
  assert.equal(calls, 5);
  assert.equal(ms.length, 3);
  assert.ok(ms.every((t) => t >= 0));
  await assert.rejects(
    timeRounds(() => {}, { warmup: 0, rounds: 0 }),
    /rounds 0/,
  );
  await assert.rejects(
    timeRounds(() => {}, { warmup: -1, rounds: 1 }),
    /warmup -1/,
  );
});

test('GFLOP/s from FLOPs and milliseconds', () => {
  assert.equal(gflopsPerSecond(2e9, 1000), 2);
  assert.equal(gflopsPerSecond(1e9, 10), 100);
});
