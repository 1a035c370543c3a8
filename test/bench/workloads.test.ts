import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { convNetForwardMacs, convNetParams, forwardFlops, trainFlops, transformerForwardMacs, transformerParams } from '../../bench/lib/workloads.ts';
import { torchPython } from '../../bench/lib/peers.ts';

test('parameter counts match the spec counted by hand', () => {
  // conv 3x3: 9·cin·cout + cout; ResBlock(c): 18c² + 6c; GroupNorm(c): 2c (see bench/REFERENCE.md)
  assert.equal(convNetParams(), 963_267);
  // LN 2·256 twice; q,k,v,o 4·(256²+256); W1 256·1024+1024; W2 1024·256+256
  assert.equal(transformerParams(), 789_760);
});

test('FLOPs count convolutions, linears and attention matmuls', () => {
  // stem at 64² of batch 8: 8·64·64·32·3·9 MACs is the smallest term; spot-check the total
  assert.equal(convNetForwardMacs(), 5_190_451_200);
  assert.equal(transformerForwardMacs(), 2048 * (4 * 256 * 256 + 2 * 256 * 1024) + 2 * 8 * 4 * 256 * 256 * 64);
  assert.equal(forwardFlops('convnet'), 2 * convNetForwardMacs());
  assert.equal(trainFlops('transformer'), 3 * forwardFlops('transformer'));
});

const python = torchPython();
const hasTorch = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

test('the PyTorch peer builds the same models (parameters and hook-counted MACs)', { skip: hasTorch ? false : `no torch in ${python}` }, () => {
  const out = spawnSync(python, ['bench/peers/torch_engine.py', '--count'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const { count } = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '') as { count: Record<string, { params: number; macs: number }> };
  assert.deepEqual(count.convnet, { params: convNetParams(), macs: convNetForwardMacs() });
  assert.deepEqual(count.transformer, { params: transformerParams(), macs: transformerForwardMacs() });
});
