import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replaceSection } from '../../bench/lib/benchmarks-md.ts';
import {
  defaultMedians,
  diffusionHeadline,
  diffusionMarkdownTable,
  diffusionRows,
  diffusionTextTable,
  parseDefaultModel,
  parseSd15,
  pctOfCeiling,
  type Outcome,
  type Sd15Result,
} from '../../bench/lib/diffusion-report.ts';
import { diffusionSection, type DiffusionSectionInput } from '../../bench/lib/diffusion-section.ts';
import type { MachineInfo } from '../../bench/lib/machine.ts';
import { parsePartResult, type PartResult } from '../../bench/lib/part.ts';

const MIB = 2 ** 20;

function defaultPart(): PartResult {
  const round = (unet: number[], total: number): Record<string, unknown> => ({
    unet_ms: unet,
    text_encoder_ms: 5,
    vae_decode_ms: 20,
    upscale_ms: 30,
    total_ms: total,
  });
  return parsePartResult(
    {
      part: 'default-model',
      model: 'gesso-clipart-v1',
      scheduler: 'DDIMScheduler',
      steps: 3,
      cfg_scale: 7,
      width: 64,
      height: 64,
      out_width: 256,
      out_height: 256,
      upscale: true,
      unet_batch: 2,
      latent: [16, 16],
      sequence: 16,
      unet_params: 1000,
      unet_flops: 2e9,
      load_ms: 100,
      warmup: 1,
      rounds: [round([10, 12, 14], 300), round([11, 13, 100], 400), round([9, 10, 11], 350)],
      max_rss_bytes: 500 * MIB,
    },
    'default',
  );
}

/** SD 1.5's counted FLOPs for one CFG step (batch 2 at 64×64), as src/graph/flops.ts gives them. */
const SD15_FLOPS = 1_606_546_882_560;

function sd15(): Sd15Result {
  const build = parsePartResult(
    {
      latent: 64,
      batch: 2,
      sequence: 77,
      params: 859_520_964,
      flops: SD15_FLOPS,
      data_bytes: 3_438_083_840,
      build_ms: 7000,
      save_ms: 7000,
      max_rss_bytes: 3300 * MIB,
    },
    'build',
  );
  const run = parsePartResult({ load_ms: 20_000, warmup: 1, warmup_ms: [15_000], ms: [20_000, 30_000, 25_000], max_rss_bytes: 3500 * MIB }, 'run');
  return parseSd15(build, run);
}

test('% of ceiling is model FLOPs / time / ceiling, null without a ceiling', () => {
  // 1.6 TFLOP in 20 s is 80 GFLOP/s: half of a 160 GFLOP/s ceiling.
  assert.equal(pctOfCeiling(1.6e12, 20_000, 160), 50);
  assert.equal(pctOfCeiling(1.6e12, 20_000, null), null);
  assert.equal(pctOfCeiling(1.6e12, 20_000, 0), null);
});

test('part results need a peak RSS and well-formed fields', () => {
  assert.throws(() => parsePartResult({ ms: [1] }, 'run'), /max_rss_bytes/);
  assert.throws(() => parsePartResult([1, 2], 'run'), /JSON object/);
  const bad = parsePartResult({ max_rss_bytes: 1, rounds: [{ unet_ms: [], total_ms: 1 }] }, 'default');
  assert.throws(() => parseDefaultModel(bad, 'default model'), /default model/);
  const noTimes = parsePartResult({ load_ms: 1, warmup: 1, ms: [], max_rss_bytes: 1 }, 'run');
  const build = parsePartResult({ latent: 64, batch: 2, sequence: 77, params: 1, flops: 1, data_bytes: 1, build_ms: 1, save_ms: 1, max_rss_bytes: 1 }, 'build');
  assert.throws(() => parseSd15(build, noTimes), /"ms"/);
  assert.deepEqual(sd15().warmupMs, [15_000]);
  const badWarmup = parsePartResult({ load_ms: 1, warmup: 1, warmup_ms: ['x'], ms: [1], max_rss_bytes: 1 }, 'run');
  assert.throws(() => parseSd15(build, badWarmup), /warmup_ms/);
});

test('default-model medians pool every step of every image; whole image is the median total', () => {
  const r = parseDefaultModel(defaultPart(), 'default');
  const m = defaultMedians(r);
  assert.equal(m.stepMs, 11); // median of 10,12,14,11,13,100,9,10,11
  assert.equal(m.imageMs, 350);
  assert.equal(m.unetEvals, 3);
  assert.equal(r.maxRssBytes, 500 * MIB);
});

test('rows and headline: SD 1.5 step seconds and % of ceiling; a missing default model is skipped, not faked', () => {
  const def: Outcome<never> = { skipped: 'models/gesso-clipart-v1 not present' };
  const rows = diffusionRows(def, { ok: sd15() }, 100);
  assert.equal(rows[0].status, 'skipped: models/gesso-clipart-v1 not present');
  assert.equal(rows[0].medianMs, null);
  const step = rows.find((r) => r.measurement.startsWith('UNet step'));
  assert.ok(step);
  assert.equal(step.medianMs, 25_000);
  assert.equal(step.peakRssBytes, 3500 * MIB);
  assert.ok(Math.abs((step.pctOfCeiling ?? 0) - (100 * SD15_FLOPS) / 25e9 / 100) < 1e-9);
  assert.match(diffusionTextTable(rows), /skipped: models\/gesso-clipart-v1 not present/);
  assert.equal(diffusionMarkdownTable(rows).split('\n').length, 2 + rows.length);

  const h = diffusionHeadline(def, { ok: sd15() }, 100, { bench: 'diffusion' });
  assert.equal(h.sd15_step_seconds, 25);
  assert.equal(h.sd15_unet_pct_of_peak, 64.26); // 1606.5 GFLOP / 25 s = 64.3 GFLOP/s of 100
  assert.equal(h.sd15_run_peak_rss_mib, 3500);
  assert.equal(h.default_step_ms, null);
  assert.equal(h.default_image_seconds, null);
  assert.equal(h.default, 'skipped: models/gesso-clipart-v1 not present');
  assert.equal(h.bench, 'diffusion');
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(h)));
});

test('headline carries the default model when it ran', () => {
  const h = diffusionHeadline({ ok: parseDefaultModel(defaultPart(), 'default') }, { skipped: 'not asked for (--only)' }, 200, {});
  assert.equal(h.default_step_ms, 11);
  assert.equal(h.default_image_seconds, 0.35);
  assert.equal(h.default_unet_pct_of_peak, 90.91); // 2 GFLOP in 11 ms = 181.8 GFLOP/s of 200
  assert.equal(h.default_peak_rss_mib, 500);
  assert.equal(h.sd15_step_seconds, null);
  assert.equal(h.sd15, 'skipped: not asked for (--only)');
});

const machine: MachineInfo = {
  date: '2026-11-26T15:00:00.000Z',
  nproc: 2,
  cpuModel: 'Test CPU',
  simd: 'avx512f',
  memoryGiB: 24,
  node: '20.0.0',
  gitCommit: 'abc1234',
  loadAverage: 5.5,
};

function section(over: Partial<DiffusionSectionInput> = {}): string {
  const def: Outcome<never> = { skipped: 'models/gesso-clipart-v1 not present' };
  const rows = diffusionRows(def, { ok: sd15() }, 100);
  return diffusionSection({
    threads: 2,
    machine,
    loadAtEnd: 4,
    sd15Loads: [5, 6],
    mode: '--quick',
    versions: 'onnxruntime-node 1.30.0',
    ceilingLine: 'ORT 100 GFLOP/s',
    def,
    sd15: { ok: sd15() },
    rounds: { defaultRounds: { warmup: 1, rounds: 3 }, sd15Rounds: { warmup: 1, rounds: 2 } },
    table: diffusionMarkdownTable(rows),
    notes: ['machine busy'],
    label: 'models/gesso-clipart-v1',
    ...over,
  });
}

test('the section says what was skipped, relates the FLOP count to "about 0.8 TFLOP", and rewrites only its own block', () => {
  const body = section();
  assert.match(body, /Default model \(models\/gesso-clipart-v1\): skipped: models\/gesso-clipart-v1 not present/);
  assert.match(body, /803\.3 GFLOP per sample at a 64×64 latent/);
  assert.match(body, /1\.61 TFLOP/);
  assert.match(body, /load average 5\.5 at the start, 5 → 6 across the SD 1\.5 part, 4 at the end/);
  assert.match(body, /^- machine busy$/m);

  const engine = '<!-- bench:engine -->\nengine numbers\n<!-- /bench:engine -->';
  const doc = `# Benchmarks\n\n${engine}\n`;
  const once = replaceSection(doc, 'diffusion', body);
  assert.ok(once.includes(engine));
  assert.ok(once.includes('<!-- bench:diffusion -->\n## Diffusion'));
  const twice = replaceSection(once, 'diffusion', section({ mode: 'full' }));
  assert.equal(twice.split('<!-- bench:diffusion -->').length, 2); // replaced, not appended again
  assert.match(twice, /\(full\)/);
  assert.doesNotMatch(twice, /\(--quick\)/);
  assert.ok(twice.includes(engine));
});
