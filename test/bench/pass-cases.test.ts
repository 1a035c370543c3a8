import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convPassFlops, PASS_CASES } from '../../bench/lib/pass-cases.ts';

test('the per-pass cases cover forward/dX/dW at stride 1 and 2 and each layer the issue names', () => {
  const convs = PASS_CASES.filter((c) => c.kind === 'conv');
  assert.deepEqual(
    convs.map((c) => (c.kind === 'conv' ? c.stride : 0)),
    [1, 2],
  );
  assert.deepEqual(
    PASS_CASES.filter((c) => c.kind !== 'conv').map((c) => c.kind),
    ['convtranspose', 'groupnorm', 'instancenorm', 'attention'],
  );
  assert.equal(new Set(PASS_CASES.map((c) => c.id)).size, PASS_CASES.length);
});

test('conv pass FLOPs: 2 × multiply-accumulates at the output size', () => {
  const [s1, s2] = PASS_CASES.filter((c) => c.kind === 'conv');
  assert.ok(s1?.kind === 'conv' && s2?.kind === 'conv');
  assert.equal(convPassFlops(s1), 2 * 8 * 64 * 64 * 64 * 64 * 9); // 64×64 output
  assert.equal(convPassFlops(s2), 2 * 8 * 64 * 32 * 32 * 64 * 9); // 32×32 output
});
