import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busyWarning, cpuModelFrom, machineInfo, packageVersion, simdFrom } from '../../bench/lib/machine.ts';

const cpuinfo = 'processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu sse4_2 avx avx2 avx512f\n\nprocessor\t: 1\n';

test('CPU model and widest SIMD come from /proc/cpuinfo text', () => {
  assert.equal(cpuModelFrom(cpuinfo), 'Intel(R) Xeon(R) Processor');
  assert.equal(simdFrom(cpuinfo), 'avx512f');
  assert.equal(simdFrom('flags\t: fpu avx2 avx\n'), 'avx2');
  assert.equal(cpuModelFrom(''), 'unknown');
});

test('machine info and package versions are read from this machine', () => {
  const m = machineInfo();
  assert.ok(m.nproc >= 1);
  assert.equal(m.node, process.versions.node);
  assert.match(packageVersion('onnxruntime-node'), /^\d+\.\d+\.\d+/);
  assert.equal(packageVersion('no-such-package-gesso'), 'not installed');
});

test('a load average above the CPU count is flagged', () => {
  assert.equal(busyWarning([0.5, 1.9], 2), null);
  assert.match(busyWarning([0.5, 13.9], 2) ?? '', /load average up to 13.9 on 2 CPUs/);
});
