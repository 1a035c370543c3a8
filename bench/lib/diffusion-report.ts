/**
 * `npm run bench:diffusion`'s results: the parts' JSON lines checked into typed results, then rows
 * (median ms, GFLOP per run, GFLOP/s, % of the MatMul ceiling, peak RSS), a console table, a
 * Markdown table and the headline JSON. Pure functions: bench/diffusion.ts does the running.
 */
import { GessoError } from '../../src/core/errors.ts';
import { numberField, numbersField, type PartResult } from './part.ts';
import { gflopsPerSecond, median } from './rounds.ts';

/** A part that ran, or why it did not. */
export type Outcome<T> = { ok: T } | { skipped: string };

export interface DefaultRound {
  /** UNet time of each denoising step (cond + uncond in one batch). */
  unetMs: number[];
  textEncoderMs: number;
  vaeDecodeMs: number;
  upscaleMs: number;
  totalMs: number;
}

export interface DefaultModelResult {
  model: string;
  scheduler: string;
  steps: number;
  cfgScale: number;
  width: number;
  height: number;
  outWidth: number;
  outHeight: number;
  upscale: boolean;
  unetBatch: number;
  latent: [number, number];
  sequence: number;
  unetParams: number;
  /** FLOPs of one UNet run (one step) at the shapes above. */
  unetFlops: number;
  loadMs: number;
  warmup: number;
  rounds: DefaultRound[];
  maxRssBytes: number;
}

export interface Sd15Result {
  latent: number;
  batch: number;
  sequence: number;
  params: number;
  /** FLOPs of one UNet run at batch × latent² (one CFG step at batch 2). */
  flops: number;
  dataBytes: number;
  buildMs: number;
  saveMs: number;
  buildRssBytes: number;
  loadMs: number;
  warmup: number;
  /** The warm-up runs' times (not in the median). */
  warmupMs: number[];
  /** Timed UNet runs. */
  ms: number[];
  runRssBytes: number;
}

function stringField(f: Record<string, unknown>, name: string, source: string): string {
  const v = f[name];
  if (typeof v !== 'string') throw new GessoError(`${source}: field "${name}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** Checks the default-model part's JSON line (bench/diffusion_default.ts). */
export function parseDefaultModel(part: PartResult, source: string): DefaultModelResult {
  const f = part.fields;
  const num = (name: string): number => numberField(f, name, source);
  const latent = f.latent;
  if (!Array.isArray(latent) || latent.length !== 2 || !latent.every((v) => Number.isInteger(v) && v > 0)) {
    throw new GessoError(`${source}: field "latent" must be [height, width], got ${JSON.stringify(latent)}`);
  }
  if (!Array.isArray(f.rounds) || f.rounds.length === 0) throw new GessoError(`${source}: field "rounds" must be a non-empty array`);
  const rounds = f.rounds.map((r: unknown, i): DefaultRound => {
    if (typeof r !== 'object' || r === null) throw new GessoError(`${source}: rounds[${i}] must be an object`);
    const rf = r as Record<string, unknown>;
    const where = `${source}: rounds[${i}]`;
    return {
      unetMs: numbersField(rf, 'unet_ms', where),
      textEncoderMs: numberField(rf, 'text_encoder_ms', where),
      vaeDecodeMs: numberField(rf, 'vae_decode_ms', where),
      upscaleMs: numberField(rf, 'upscale_ms', where),
      totalMs: numberField(rf, 'total_ms', where),
    };
  });
  return {
    model: stringField(f, 'model', source),
    scheduler: stringField(f, 'scheduler', source),
    steps: num('steps'),
    cfgScale: num('cfg_scale'),
    width: num('width'),
    height: num('height'),
    outWidth: num('out_width'),
    outHeight: num('out_height'),
    upscale: f.upscale === true,
    unetBatch: num('unet_batch'),
    latent: latent as [number, number],
    sequence: num('sequence'),
    unetParams: num('unet_params'),
    unetFlops: num('unet_flops'),
    loadMs: num('load_ms'),
    warmup: num('warmup'),
    rounds,
    maxRssBytes: part.maxRssBytes,
  };
}

/** Joins the SD 1.5 build part and run part (bench/diffusion_sd15_build.ts, bench/diffusion_unet_run.ts). */
export function parseSd15(build: PartResult, run: PartResult): Sd15Result {
  const b = (name: string): number => numberField(build.fields, name, 'sd15 build');
  const r = (name: string): number => numberField(run.fields, name, 'sd15 run');
  return {
    latent: b('latent'),
    batch: b('batch'),
    sequence: b('sequence'),
    params: b('params'),
    flops: b('flops'),
    dataBytes: b('data_bytes'),
    buildMs: b('build_ms'),
    saveMs: b('save_ms'),
    buildRssBytes: build.maxRssBytes,
    loadMs: r('load_ms'),
    warmup: r('warmup'),
    warmupMs:
      run.fields.warmup_ms === undefined || (Array.isArray(run.fields.warmup_ms) && run.fields.warmup_ms.length === 0)
        ? []
        : numbersField(run.fields, 'warmup_ms', 'sd15 run'),
    ms: numbersField(run.fields, 'ms', 'sd15 run'),
    runRssBytes: run.maxRssBytes,
  };
}

/** Model FLOPs done in `ms`, as a percentage of a ceiling in GFLOP/s (null without a ceiling). */
export function pctOfCeiling(flops: number, ms: number, ceilingGflops: number | null): number | null {
  if (ceilingGflops === null || !(ceilingGflops > 0)) return null;
  return (100 * gflopsPerSecond(flops, ms)) / ceilingGflops;
}

/** Medians of the default model's timed rounds; the step median pools every step of every round. */
export function defaultMedians(r: DefaultModelResult): {
  stepMs: number;
  textEncoderMs: number;
  vaeDecodeMs: number;
  upscaleMs: number;
  imageMs: number;
  unetEvals: number;
} {
  return {
    stepMs: median(r.rounds.flatMap((x) => x.unetMs)),
    textEncoderMs: median(r.rounds.map((x) => x.textEncoderMs)),
    vaeDecodeMs: median(r.rounds.map((x) => x.vaeDecodeMs)),
    upscaleMs: median(r.rounds.map((x) => x.upscaleMs)),
    imageMs: median(r.rounds.map((x) => x.totalMs)),
    unetEvals: r.rounds[0]?.unetMs.length ?? 0,
  };
}

export interface DiffusionRow {
  part: string;
  measurement: string;
  /** How many values the median is of ('' for derived rows). */
  runs: string;
  medianMs: number | null;
  gflop: number | null;
  pctOfCeiling: number | null;
  peakRssBytes: number | null;
  /** Shown instead of a time: a skip reason, or how a derived value was made. */
  status: string;
}

const MIB = 2 ** 20;

function flopRow(part: string, measurement: string, runs: number, ms: number, flops: number, ceiling: number | null, rss: number | null): DiffusionRow {
  return {
    part,
    measurement,
    runs: String(runs),
    medianMs: ms,
    gflop: flops / 1e9,
    pctOfCeiling: pctOfCeiling(flops, ms, ceiling),
    peakRssBytes: rss,
    status: 'ok',
  };
}

function timeRow(part: string, measurement: string, runs: string, ms: number, rss: number | null = null, status = 'ok'): DiffusionRow {
  return { part, measurement, runs, medianMs: ms, gflop: null, pctOfCeiling: null, peakRssBytes: rss, status };
}

function skippedRow(part: string, reason: string): DiffusionRow {
  return { part, measurement: '', runs: '', medianMs: null, gflop: null, pctOfCeiling: null, peakRssBytes: null, status: `skipped: ${reason}` };
}

/** Steps of the whole-image estimate for the SD 1.5 UNet (A1111's and gesso's default). */
export const IMAGE_STEPS = 20;

export function diffusionRows(def: Outcome<DefaultModelResult>, sd15: Outcome<Sd15Result>, ceiling: number | null): DiffusionRow[] {
  const rows: DiffusionRow[] = [];
  if ('skipped' in def) rows.push(skippedRow('default model', def.skipped));
  else {
    const r = def.ok;
    const m = defaultMedians(r);
    const n = r.rounds.length;
    const part = r.model;
    rows.push(
      flopRow(
        part,
        `UNet step (batch ${r.unetBatch}, ${r.latent[0]}×${r.latent[1]} latent, ${r.sequence} tokens)`,
        n * m.unetEvals,
        m.stepMs,
        r.unetFlops,
        ceiling,
        null,
      ),
    );
    rows.push(timeRow(part, 'text encoder (prompt + negative)', String(n), m.textEncoderMs));
    rows.push(timeRow(part, `VAE decode (${r.width}×${r.height})`, String(n), m.vaeDecodeMs));
    if (r.upscale) rows.push(timeRow(part, `upscale (${r.width}×${r.height} → ${r.outWidth}×${r.outHeight})`, String(n), m.upscaleMs));
    const image = `whole image (${r.steps} steps ${r.scheduler}, CFG ${r.cfgScale}, ${r.outWidth}×${r.outHeight}${r.upscale ? ', upscaled' : ''})`;
    rows.push(timeRow(part, image, String(n), m.imageMs, r.maxRssBytes));
  }
  if ('skipped' in sd15) rows.push(skippedRow('SD 1.5 UNet', sd15.skipped));
  else {
    const r = sd15.ok;
    const part = 'SD 1.5 UNet';
    const px = r.latent * 8;
    const stepMs = median(r.ms);
    rows.push(
      timeRow(part, `build with random weights + save (${(r.dataBytes / 1e9).toFixed(2)} GB external data)`, '1', r.buildMs + r.saveMs, r.buildRssBytes),
    );
    rows.push(timeRow(part, 'ORT session load', '1', r.loadMs));
    rows.push(
      flopRow(
        part,
        `UNet step (batch ${r.batch}, ${r.latent}×${r.latent} latent = ${px}×${px}, ${r.sequence} tokens)`,
        r.ms.length,
        stepMs,
        r.flops,
        ceiling,
        r.runRssBytes,
      ),
    );
    rows.push({
      ...flopRow(part, `${IMAGE_STEPS} steps, UNet only`, r.ms.length, IMAGE_STEPS * stepMs, IMAGE_STEPS * r.flops, ceiling, null),
      runs: '',
      status: `${IMAGE_STEPS} × step median`,
    });
  }
  return rows;
}

const HEADERS = ['part', 'measurement', 'runs', 'median ms', 'GFLOP per run', 'GFLOP/s', '% of ceiling', 'peak RSS MiB'];

function cells(r: DiffusionRow): string[] {
  const num = (v: number | null, digits: number): string => (v === null ? '' : v.toFixed(digits));
  const gflops = r.gflop !== null && r.medianMs !== null ? (r.gflop * 1000) / r.medianMs : null;
  const time = r.medianMs === null ? r.status : r.status === 'ok' ? num(r.medianMs, 1) : `${num(r.medianMs, 1)} (${r.status})`;
  return [
    r.part,
    r.measurement,
    r.runs,
    time,
    num(r.gflop, 1),
    num(gflops, 1),
    num(r.pctOfCeiling, 1),
    r.peakRssBytes === null ? '' : (r.peakRssBytes / MIB).toFixed(0),
  ];
}

/** A fixed-width table for the console. */
export function diffusionTextTable(rows: readonly DiffusionRow[]): string {
  const body = rows.map(cells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => (i >= 2 ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function diffusionMarkdownTable(rows: readonly DiffusionRow[]): string {
  const line = (c: string[]): string => `| ${c.map((v) => v.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(HEADERS), line(HEADERS.map((_, i) => (i >= 2 ? '---:' : '---'))), ...rows.map((r) => line(cells(r)))].join('\n');
}

const round = (v: number | null, digits: number): number | null => (v === null ? null : Number(v.toFixed(digits)));
const mib = (bytes: number): number => Math.round(bytes / MIB);

/**
 * The headline JSON (the benchmark's last line): SD 1.5's step time and % of ceiling, the default
 * model's step and whole-image times, peak RSS of each part; null for a part that did not run.
 */
export function diffusionHeadline(
  def: Outcome<DefaultModelResult>,
  sd15: Outcome<Sd15Result>,
  ceiling: number | null,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  const s = 'ok' in sd15 ? sd15.ok : null;
  const d = 'ok' in def ? def.ok : null;
  const dm = d === null ? null : defaultMedians(d);
  const sStep = s === null ? null : median(s.ms);
  return {
    sd15_unet_pct_of_peak: s === null || sStep === null ? null : round(pctOfCeiling(s.flops, sStep, ceiling), 2),
    sd15_step_seconds: sStep === null ? null : round(sStep / 1000, 2),
    sd15_step_gflop: s === null ? null : round(s.flops / 1e9, 1),
    sd15_unet_gflops: s === null || sStep === null ? null : round(gflopsPerSecond(s.flops, sStep), 1),
    sd15_20_step_unet_seconds: sStep === null ? null : round((IMAGE_STEPS * sStep) / 1000, 1),
    sd15_load_seconds: s === null ? null : round(s.loadMs / 1000, 1),
    sd15_run_peak_rss_mib: s === null ? null : mib(s.runRssBytes),
    sd15_build_peak_rss_mib: s === null ? null : mib(s.buildRssBytes),
    default_step_ms: dm === null ? null : round(dm.stepMs, 2),
    default_image_seconds: dm === null ? null : round(dm.imageMs / 1000, 3),
    default_unet_pct_of_peak: d === null || dm === null ? null : round(pctOfCeiling(d.unetFlops, dm.stepMs, ceiling), 2),
    default_step_gflop: d === null ? null : round(d.unetFlops / 1e9, 3),
    default_peak_rss_mib: d === null ? null : mib(d.maxRssBytes),
    ceiling_gflops: round(ceiling, 1),
    default: 'skipped' in def ? `skipped: ${def.skipped}` : 'ok',
    sd15: 'skipped' in sd15 ? `skipped: ${sd15.skipped}` : 'ok',
    ...extra,
  };
}
