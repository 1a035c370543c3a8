// Item 8: thread counts are capped (100,000 threads made no progress and grew to 6.7 GB).
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ortSessionOptions } from '../../src/runtime/ort-values.ts';
import { defaultThreads } from '../../src/runtime/threads.ts';
import { gesso } from './gesso-cli.ts';
import { pngWithText, scratch } from './hostile-inputs.ts';

test('every way to ask for threads is capped at 4 per core, with a message', () => {
  const max = 4 * availableParallelism();
  assert.throws(
    () => ortSessionOptions({ intraOpThreads: 100_000 }),
    new RegExp(`intra-op threads="100000": expected a whole number of threads from 1 to ${max}`),
  );
  assert.throws(() => ortSessionOptions({ interOpThreads: 0 }), /inter-op threads="0"/);
  assert.throws(() => defaultThreads({ GESSO_THREADS: '100000' }), /GESSO_THREADS="100000"/);
  assert.equal(ortSessionOptions({ intraOpThreads: max }).intraOpNumThreads, max);
  const dir = scratch('threads');
  const r = gesso(['upscale', pngWithText(join(dir, 'in.png'), [], 16), '--threads', '100000', '--out', join(dir, 'out.png')], { timeoutMs: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /upscale: --threads="100000": expected a whole number of threads from 1 to \d+ \(4 per core/);
});
