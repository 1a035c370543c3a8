/**
 * The optional oneDNN convolution backend (src/runtime/dnnl/): each pass against a float64 reference
 * computed here by direct loops, and against gesso's ORT route (Conv + the autodiff gradient graph),
 * at stride 1 and 2, asymmetric padding, dilation, groups and depthwise. Tests that need oneDNN skip
 * with its reason when it is missing (CI installs libdnnl2 in .ci/run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gradients } from '../../src/autodiff/grad.ts';
import { InputError } from '../../src/core/errors.ts';
import { Rng } from '../../src/core/rng.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import { Graph } from '../../src/graph/graph.ts';
import { conv, mul, reduceSum } from '../../src/graph/ops/index.ts';
import { dnnlConv2d, dnnlStatus, releaseDnnlConvs, setDnnlThreads } from '../../src/runtime/dnnl/backend.ts';
import { type DnnlConvGeometry, resolveConvGeometry } from '../../src/runtime/dnnl/conv2d.ts';
import { Session } from '../../src/runtime/session.ts';

const ompWaitPolicyBefore = process.env.OMP_WAIT_POLICY;
const status = dnnlStatus();
const skip = status.available ? false : `oneDNN not available: ${status.reason}`;
if (skip !== false) console.log(`# skipping oneDNN tests: ${skip}`);

interface Case {
  name: string;
  geo: DnnlConvGeometry;
}

const CASES: Case[] = [
  {
    name: '3×3 stride 1, pad 1, bias',
    geo: { batch: 2, inChannels: 16, height: 9, width: 11, outChannels: 32, kernel: [3, 3], padding: [1, 1, 1, 1], bias: true },
  },
  {
    name: '3×3 stride 2, asymmetric pad',
    geo: { batch: 2, inChannels: 16, height: 12, width: 10, outChannels: 16, kernel: [3, 3], stride: [2, 2], padding: [1, 0, 0, 1] },
  },
  {
    name: '3×3 groups 4, dilation 2, bias',
    geo: { batch: 3, inChannels: 32, height: 10, width: 10, outChannels: 16, kernel: [3, 3], padding: [2, 2, 2, 2], dilation: [2, 2], groups: 4, bias: true },
  },
  {
    name: 'depthwise 3×3 stride 2',
    geo: { batch: 2, inChannels: 16, height: 8, width: 8, outChannels: 16, kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1], groups: 16 },
  },
  { name: '1×1 stride 1, odd channels', geo: { batch: 1, inChannels: 3, height: 5, width: 7, outChannels: 5, kernel: [1, 1], bias: true } },
];

/** y, dx, dw, db of one conv in float64 by direct loops (dx and dw as the adjoints of the same sum). */
function reference(geo: DnnlConvGeometry, x: Float32Array, w: Float32Array, b: Float32Array | null, dy: Float32Array) {
  const g = resolveConvGeometry(geo);
  const cg = g.c / g.groups;
  const og = g.o / g.groups;
  const y = new Float64Array(g.n * g.o * g.oh * g.ow);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(g.o);
  for (let n = 0; n < g.n; n++)
    for (let o = 0; o < g.o; o++) {
      const group = Math.floor(o / og);
      for (let i = 0; i < g.oh; i++)
        for (let j = 0; j < g.ow; j++) {
          const yi = ((n * g.o + o) * g.oh + i) * g.ow + j;
          const gy = dy[yi] as number;
          let sum = b === null ? 0 : (b[o] as number);
          db[o] = (db[o] as number) + gy;
          for (let ci = 0; ci < cg; ci++) {
            const c = group * cg + ci;
            for (let ky = 0; ky < g.kh; ky++) {
              const yy = i * g.sh - g.pads[0] + ky * g.dh;
              if (yy < 0 || yy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const xx = j * g.sw - g.pads[1] + kx * g.dw;
                if (xx < 0 || xx >= g.w) continue;
                const xi = ((n * g.c + c) * g.h + yy) * g.w + xx;
                const wi = ((o * cg + ci) * g.kh + ky) * g.kw + kx;
                sum += (x[xi] as number) * (w[wi] as number);
                dx[xi] = (dx[xi] as number) + gy * (w[wi] as number);
                dw[wi] = (dw[wi] as number) + gy * (x[xi] as number);
              }
            }
          }
          y[yi] = sum;
        }
    }
  return { y, dx, dw, db };
}

/** max |a − b| / max(1, max |b|) */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return diff / scale;
}

function randomInputs(geo: DnnlConvGeometry, seed: number) {
  const g = resolveConvGeometry(geo);
  const rng = new Rng(seed);
  return {
    x: rng.normal(g.n * g.c * g.h * g.w),
    w: rng.normal((g.o * g.c * g.kh * g.kw) / g.groups, 0.2),
    b: g.bias ? rng.normal(g.o) : null,
    dy: rng.normal(g.n * g.o * g.oh * g.ow),
  };
}

test('dnnlStatus names the missing piece and how to install it, and never throws', () => {
  const s = dnnlStatus('libgesso-no-such-dnnl.so.2');
  assert.equal(s.available, false);
  const koffiMissing = !status.available && /koffi could not be loaded/.test(status.reason ?? '');
  assert.match(
    s.reason ?? '',
    koffiMissing ? /optional npm package koffi could not be loaded/ : /libgesso-no-such-dnnl\.so\.2.*could not be loaded.*apt-get install libdnnl2/,
  );
});

test('conv geometry: bad values are refused by name', () => {
  const base: DnnlConvGeometry = { batch: 1, inChannels: 4, height: 5, width: 5, outChannels: 4, kernel: [3, 3] };
  assert.throws(
    () => resolveConvGeometry({ ...base, batch: 0 }),
    (e: Error) => e instanceof InputError && /batch must be a positive integer, got 0/.test(e.message),
  );
  assert.throws(() => resolveConvGeometry({ ...base, groups: 3 }), /groups 3 must divide inChannels 4 and outChannels 4/);
  assert.throws(() => resolveConvGeometry({ ...base, padding: [1, -1, 0, 0] }), /padding\[1\] must be a non-negative integer, got -1/);
  assert.throws(() => resolveConvGeometry({ ...base, kernel: [7, 3] }), /kernel 7×3 \(dilation 1×1\) does not fit the padded 5×5 input/);
  assert.deepEqual(
    (({ oh, ow }) => [oh, ow])(resolveConvGeometry({ ...base, stride: [2, 2], padding: [1, 0, 0, 1] })),
    [2, 2], // (5 + 1 − 3) / 2 + 1 = 2 rows, (5 + 1 − 3) / 2 + 1 = 2 columns
  );
});

for (const activations of ['blocked', 'plain'] as const) {
  test(`oneDNN conv passes match a float64 reference (${activations} activations)`, { skip }, () => {
    setDnnlThreads(2);
    try {
      for (const [i, c] of CASES.entries()) {
        const { x, w, b, dy } = randomInputs(c.geo, 11 + i);
        const ref = reference(c.geo, x, w, b, dy);
        const dnnl = dnnlConv2d(c.geo, { activations });
        const y = dnnl.forward(x, w, b);
        const dx = dnnl.backwardData(w, dy);
        const { dw, db } = dnnl.backwardWeights(x, dy);
        assert.ok(relError(y, ref.y) < 1e-5, `${c.name}: forward off by ${relError(y, ref.y)} (${dnnl.implementation('forward')})`);
        assert.ok(relError(dx, ref.dx) < 1e-5, `${c.name}: dX off by ${relError(dx, ref.dx)} (${dnnl.implementation('backwardData')})`);
        assert.ok(relError(dw, ref.dw) < 1e-5, `${c.name}: dW off by ${relError(dw, ref.dw)} (${dnnl.implementation('backwardWeights')})`);
        if (b !== null) {
          assert.ok(db !== null && relError(db, ref.db) < 1e-5, `${c.name}: db off`);
        } else {
          assert.equal(db, null);
        }
        // A second call with fresh data reuses the cached primitives and still gives fresh results.
        const again = randomInputs(c.geo, 101 + i);
        const ref2 = reference(c.geo, again.x, again.w, again.b, again.dy);
        const out = new Float32Array(y.length);
        assert.equal(dnnlConv2d(c.geo, { activations }).forward(again.x, again.w, again.b, out), out);
        assert.ok(relError(out, ref2.y) < 1e-5, `${c.name}: second forward off`);
      }
    } finally {
      releaseDnnlConvs();
    }
  });
}

test('oneDNN conv passes agree with gesso ORT route (Conv and its autodiff gradients), stride 2 and groups', { skip }, async () => {
  const geo: DnnlConvGeometry = {
    batch: 2,
    inChannels: 8,
    height: 13,
    width: 12,
    outChannels: 12,
    kernel: [3, 3],
    stride: [2, 2],
    padding: [1, 1, 0, 1],
    groups: 2,
    bias: true,
  };
  const r = resolveConvGeometry(geo);
  const g = new Graph();
  const xt = g.input('x', [r.n, r.c, r.h, r.w]);
  const wt = g.input('w', [r.o, r.c / r.groups, r.kh, r.kw]);
  const bt = g.input('b', [r.o]);
  const yt = conv(xt, wt, bt, { strides: [r.sh, r.sw], pads: r.pads, group: r.groups });
  const gyt = g.input('gy', yt.shape);
  const [gx, gw, gb] = gradients(reduceSum(mul(yt, gyt)), [xt, wt, bt]);
  assert.ok(gx && gw && gb);
  const model = exportOnnx(g, { outputs: { y: yt, gx, gw, gb }, params: 'inputs' });
  const session = await Session.create(model.bytes, { name: 'conv reference', intraOpThreads: 1 });
  try {
    const { x, w, b, dy } = randomInputs(geo, 5);
    const ort = await session.run({
      x: { dtype: 'float32', dims: [...xt.shape], data: x },
      w: { dtype: 'float32', dims: [...wt.shape], data: w },
      b: { dtype: 'float32', dims: [r.o], data: b ?? new Float32Array(r.o) },
      gy: { dtype: 'float32', dims: [...gyt.shape], data: dy },
    });
    const dnnl = dnnlConv2d(geo);
    const pairs: [string, Float32Array, ArrayLike<number>][] = [
      ['forward', dnnl.forward(x, w, b), ort['y']?.data as Float32Array],
      ['dX', dnnl.backwardData(w, dy), ort['gx']?.data as Float32Array],
      ['dW', dnnl.backwardWeights(x, dy).dw, ort['gw']?.data as Float32Array],
      ['db', dnnl.backwardWeights(x, dy).db ?? new Float32Array(0), ort['gb']?.data as Float32Array],
    ];
    for (const [name, mine, theirs] of pairs) assert.ok(relError(mine, theirs) < 1e-5, `${name} differs from ORT by ${relError(mine, theirs)}`);
  } finally {
    await session.release();
    releaseDnnlConvs();
  }
});

test('oneDNN conv refuses arrays of the wrong size or a missing bias, naming what it expected', { skip }, () => {
  const geo: DnnlConvGeometry = { batch: 1, inChannels: 4, height: 6, width: 6, outChannels: 8, kernel: [3, 3], padding: [1, 1, 1, 1], bias: true };
  const dnnl = dnnlConv2d(geo);
  try {
    const w = new Float32Array(8 * 4 * 9);
    assert.throws(
      () => dnnl.forward(new Float32Array(10), w, new Float32Array(8)),
      (e: Error) => e instanceof InputError && e.message === 'conv forward: x has 10 values, expected 144 (N, C, H, W) = (1, 4, 6, 6)',
    );
    assert.throws(() => dnnl.forward(new Float32Array(144), w, null), /conv forward needs a bias of 8 values/);
    assert.throws(() => dnnl.backwardData(w, new Float32Array(5)), /conv backwardData: dy has 5 values, expected 288 \(N, O, OH, OW\) = \(1, 8, 6, 6\)/);
  } finally {
    releaseDnnlConvs();
  }
});

test('loading oneDNN leaves OMP_WAIT_POLICY as it found it (child processes do not inherit passive)', { skip }, () => {
  assert.equal(process.env.OMP_WAIT_POLICY, ompWaitPolicyBefore);
});

test('a process that ran oneDNN on 2 spinning OpenMP threads exits cleanly (libraries stay mapped until exit)', { skip }, () => {
  const backend = new URL('../../src/runtime/dnnl/backend.ts', import.meta.url).href;
  const script = `
    const { dnnlConv2d, setDnnlThreads } = await import(${JSON.stringify(backend)});
    setDnnlThreads(2);
    const conv = dnnlConv2d({ batch: 4, inChannels: 32, height: 32, width: 32, outChannels: 32, kernel: [3, 3], padding: [1, 1, 1, 1] });
    const x = new Float32Array(4 * 32 * 32 * 32).fill(0.5);
    const w = new Float32Array(32 * 32 * 9).fill(0.1);
    for (let i = 0; i < 3; i++) conv.backwardWeights(x, conv.forward(x, w));
    console.log('done');
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, OMP_WAIT_POLICY: 'active' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(child.signal, null, `child died by ${child.signal}: ${child.stderr}`);
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), 'done');
});

test('arrays that view part of a larger buffer are read and written at their own offset', { skip }, () => {
  const geo: DnnlConvGeometry = { batch: 2, inChannels: 8, height: 7, width: 7, outChannels: 8, kernel: [3, 3], padding: [1, 1, 1, 1] };
  const { x, w, dy } = randomInputs(geo, 21);
  const dnnl = dnnlConv2d(geo);
  try {
    const expected = dnnl.forward(x, w);
    const pool = new Float32Array(3 * x.length + 7).fill(Number.NaN);
    const xView = pool.subarray(5, 5 + x.length);
    xView.set(x);
    const yView = pool.subarray(5 + x.length + 1, 5 + 2 * x.length + 1);
    dnnl.forward(xView, w, null, yView);
    assert.deepEqual(yView, expected);
    assert.ok(Number.isNaN(pool[4] as number) && Number.isNaN(pool[5 + x.length] as number), 'wrote outside its view');
    assert.deepEqual(dnnl.backwardWeights(xView, dy).dw, dnnl.backwardWeights(x, dy).dw);
  } finally {
    releaseDnnlConvs();
  }
});
