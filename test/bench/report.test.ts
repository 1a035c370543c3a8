import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRows, ceilingGflops, headline, markdownTable, textTable, type Measurement } from '../../bench/lib/report.ts';
import { forwardFlops } from '../../bench/lib/workloads.ts';

const measurements: Measurement[] = [
  { workload: 'convnet', step: 'forward', peer: 'gesso', result: { ms: [40, 50, 60] } },
  { workload: 'convnet', step: 'train', peer: 'gesso', result: { skipped: 'engine not built yet' } },
  { workload: 'convnet', step: 'forward', peer: 'torch', result: { ms: [100] } },
  { workload: 'convnet', step: 'train', peer: 'torch', result: { ms: [300] } },
];

test('rows carry medians, GFLOP/s, % of the larger ceiling and peer/gesso speedups', () => {
  const ceiling = { ortGflops: 150, torchGflops: 300 };
  assert.equal(ceilingGflops(ceiling), 300);
  assert.equal(ceilingGflops({ ortGflops: null, torchGflops: null }), null);
  const rows = buildRows(measurements, ceiling);
  const gessoFwd = rows[0];
  assert.equal(gessoFwd.medianMs, 50);
  assert.equal(gessoFwd.gflops, forwardFlops('convnet') / 50e6);
  assert.equal(gessoFwd.pctOfCeiling, (100 * gessoFwd.gflops!) / 300);
  assert.equal(gessoFwd.gessoSpeedup, null);
  assert.equal(rows[1].status, 'engine not built yet');
  assert.equal(rows[1].medianMs, null);
  assert.equal(rows[2].gessoSpeedup, 2); // torch 100 ms / gesso 50 ms
  assert.equal(rows[3].gessoSpeedup, null); // gesso's training step was skipped
});

test('tables show skipped steps by their reason', () => {
  const rows = buildRows(measurements, { ortGflops: 150, torchGflops: null });
  const text = textTable(rows);
  assert.match(text, /engine not built yet/);
  assert.match(text, /2\.00×/);
  const md = markdownTable(rows);
  assert.equal(md.split('\n').length, 2 + rows.length);
  assert.match(md, /^\| workload \| step \| peer/);
});

test('headline JSON: conv-net speedups unprefixed, null when gesso has no time', () => {
  const rows = buildRows(measurements, { ortGflops: 150, torchGflops: 300 });
  const h = headline(rows, { ortGflops: 150, torchGflops: 300 }, { bench: 'engine' });
  assert.equal(h.infer_speedup_vs_torch, 2);
  assert.equal(h.train_speedup_vs_torch, null);
  assert.equal(h.train_pct_of_peak, null);
  assert.equal(h.transformer_infer_speedup_vs_torch, null);
  assert.equal(h.ceiling_gflops, 300);
  assert.equal(h.torch_convnet_train_ms, 300);
  assert.equal(h.bench, 'engine');
});

test('CPU-time medians give their own speedup beside the wall-time one', () => {
  const rows = buildRows(
    [
      { workload: 'convnet', step: 'train', peer: 'gesso', result: { ms: [200], cpuMs: [150] } },
      { workload: 'convnet', step: 'train', peer: 'torch', result: { ms: [100], cpuMs: [300] } },
      { workload: 'convnet', step: 'forward', peer: 'torch', result: { ms: [100] } },
    ],
    { ortGflops: 150, torchGflops: 150 },
  );
  assert.equal(rows[1]?.gessoSpeedup, 0.5);
  assert.equal(rows[1]?.gessoSpeedupCpu, 2);
  assert.equal(rows[2]?.gessoSpeedupCpu, null);
  const h = headline(rows, { ortGflops: 150, torchGflops: 150 }, {});
  assert.equal(h.train_speedup_vs_torch_cpu_time, 2);
});

test('headline speed-ups compare with the faster PyTorch fp32 configuration (as installed or glibc keeping memory)', () => {
  const both: Measurement[] = [
    { workload: 'convnet', step: 'forward', peer: 'gesso', result: { ms: [50] } },
    { workload: 'convnet', step: 'train', peer: 'gesso', result: { ms: [200] } },
    { workload: 'convnet', step: 'forward', peer: 'torch', result: { ms: [40] } },
    { workload: 'convnet', step: 'train', peer: 'torch', result: { ms: [160] } },
    { workload: 'convnet', step: 'forward', peer: 'torch-kept', result: { ms: [45] } },
    { workload: 'convnet', step: 'train', peer: 'torch-kept', result: { ms: [150] } },
    { workload: 'convnet', step: 'train', peer: 'torch-bf16', result: { ms: [100] } },
  ];
  const h = headline(buildRows(both, { ortGflops: 150, torchGflops: 300 }), { ortGflops: 150, torchGflops: 300 }, {});
  assert.equal(h.infer_speedup_vs_torch, 0.8); // torch as installed was faster: 40 / 50
  assert.equal(h.train_speedup_vs_torch, 0.75); // torch-kept was faster: 150 / 200 (bf16 is not fp32)
});
