import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTimed, parsePeerReport } from '../../bench/lib/results.ts';

const good = {
  peer: 'torch',
  threads: 2,
  versions: { torch: '1.13.0' },
  matmul: { n: 2048, ms: [100, 101] },
  workloads: {
    convnet: { params: 963267, forward: { ms: [50, 51] }, train: { ms: [160] } },
    transformer: { forward: { ms: [30], backend: 'wasm' }, train: { skipped: 'skipped in --quick' } },
  },
};

test('a well-formed peer report is kept field by field', () => {
  const r = parsePeerReport(good, 'torch peer');
  assert.equal(r.peer, 'torch');
  assert.deepEqual(r.matmul, { ms: [100, 101] });
  assert.equal(r.workloads.convnet?.params, 963267);
  assert.deepEqual(r.workloads.transformer?.forward, { ms: [30], backend: 'wasm' });
  const train = r.workloads.transformer?.train;
  assert.ok(train !== undefined && !isTimed(train));
  assert.deepEqual(r.notes, []);
});

test('a malformed report names the bad field', () => {
  const badMs = structuredClone(good);
  badMs.workloads.convnet.forward.ms = [50, Number.NaN];
  assert.throws(() => parsePeerReport(badMs, 'torch peer'), /torch peer: workloads\.convnet\.forward\.ms/);
  assert.throws(() => parsePeerReport({ ...good, workloads: null }, 'tfjs peer'), /tfjs peer: field "workloads"/);
  assert.throws(() => parsePeerReport([], 'x'), /expected a JSON object/);
  const noStep = structuredClone(good) as { workloads: { convnet: Record<string, unknown> } };
  delete noStep.workloads.convnet.train;
  assert.throws(() => parsePeerReport(noStep, 'torch peer'), /workloads\.convnet\.train/);
});

test('per-round CPU times are kept when a peer reports them, and checked like wall times', () => {
  const withCpu = structuredClone(good) as { workloads: { convnet: { forward: Record<string, unknown> } } };
  withCpu.workloads.convnet.forward.cpu_ms = [40, 41];
  assert.deepEqual(parsePeerReport(withCpu, 'torch peer').workloads.convnet?.forward, { ms: [50, 51], cpuMs: [40, 41] });
  withCpu.workloads.convnet.forward.cpu_ms = ['fast'];
  assert.throws(() => parsePeerReport(withCpu, 'torch peer'), /workloads\.convnet\.forward\.cpu_ms/);
});
