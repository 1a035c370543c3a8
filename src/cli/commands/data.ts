import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { numberFlag } from '../flags.ts';
import type { Command } from '../command.ts';
import { InputError } from '../../core/errors.ts';
import { buildDataset, type BuildProgress, type BuildReport } from '../../data/build-dataset.ts';
import { contactSheet } from '../../data/contact-sheet.ts';
import { folderSources, type FitChoice } from '../../data/folder-source.ts';
import { buildOpenclipartDataset } from '../../data/openclipart.ts';
import { buildEmojiDataset } from '../../data/emoji.ts';
import { buildShapesDataset } from '../../data/shapes.ts';
import { DEFAULT_EMOJI_SETS, EMOJI_SETS, parseEmojiSets } from '../../data/emoji-sets.ts';
import { writeFileAtomic } from '../../weights/file-io.ts';

const usage = `Usage: gesso data <openclipart|emoji|shapes|folder|sheet> [options]

Builds a captioned image dataset for training: OUT/images/<id>.png, OUT/manifest.jsonl (one line per
picture: file, caption, category, source, licence, split, colors) and OUT/report.json (counts, drops
by reason, categories, time). Broken files, blank renders and exact duplicates are dropped and listed
in the report. Running again with the same OUT resumes: unchanged files are not rendered again.

  gesso data openclipart [--size 64] [--out DIR] [--limit N] [--seed S] [--val-fraction 0.05] [--root DIR]
      The Open Clip Art Library (Debian package openclipart-svg, CC0), rendered onto white squares.
      Captions come from file and folder names, author names removed, with measured colours:
      "red star with black, stars, shapes". --limit takes a seeded random sample of N files.
      Default --out: .cache/openclipart-<size>

  gesso data emoji [--size 64] [--out DIR] [--sets ${DEFAULT_EMOJI_SETS.join(',')}] [--packages DIR]
      Emoji drawings from npm packages, downloaded from the npm registry with \`npm pack\` into --packages
      (default .cache/npm; checked against pinned hashes; later builds work offline from there). Sets:
${Object.values(EMOJI_SETS)
  .map((s) => `        ${s.id.padEnd(12)} ${s.package.name}@${s.package.version}, graphics ${s.licence}`)
  .join('\n')}
      Captions from the Unicode CLDR names and keywords (emojibase-data) with the set as a style word:
      "red apple with green, food fruit, twemoji style". Skin-tone variants, flags and components are
      left out. Writes ATTRIBUTION.md (credit lines per set) beside the manifest. Default --out: .cache/emoji-<size>

  gesso data shapes [--size 64] [--out DIR] [--per-color 20] [--seed S]
      Geometric shapes drawn by gesso (CC0): star, heart, circle, square, triangle, diamond and moon in
      ten named colours, filled, outlined or both, a little rotated and stretched. Captions "red star,
      shapes" or "a red star": they teach a model to put a colour word on a shape word, which the
      named drawings rarely show (the emoji star is always yellow). Default --out: .cache/shapes-<size>

  gesso data folder DIR [--size 64] [--out OUT] [--fit auto|crop|pad] [--seed S] [--val-fraction 0.05]
      Any folder of .png .jpg .jpeg .webp .svg pictures (recursive). A "<name>.txt" beside a picture is
      its caption; otherwise the caption comes from its file and folder names. The licence is "unknown"
      unless a LICENSE / licence.txt file is in its folder or above. --fit auto (default) pads SVGs and
      pictures with transparency onto white and centre-crops photos. Default --out: .cache/<name>-<size>

  gesso data sheet DIR [--out FILE] [--count 64] [--seed S]
      A contact sheet PNG of random pictures of a dataset with their captions (default DIR/sheet.png).

Options for openclipart, emoji, shapes and folder:
  --size N            side of the square images in pixels (default 64)
  --seed S            seed of the train/val split and of --limit's sample (default 0)
  --val-fraction F    share of pictures in the val split (default 0.05)
  --concurrency N     renders at once (default 2)
  --max-per-category N  keep at most N pictures per category folder, a seeded choice (default 0: all);
                      e.g. openclipart's shapes/stars holds 1,378 near-identical faint line stars`;

export const dataCommand: Command = {
  usage,
  async run(args: string[]): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === 'openclipart') return runOpenclipart(rest);
    if (sub === 'emoji') return runEmoji(rest);
    if (sub === 'shapes') return runShapes(rest);
    if (sub === 'folder') return runFolder(rest);
    if (sub === 'sheet') return runSheet(rest);
    throw new InputError(`data: unknown subcommand ${JSON.stringify(sub ?? '')}; expected openclipart, emoji, shapes, folder or sheet (see gesso data --help)`);
  },
};

const buildFlags = {
  size: { type: 'string', default: '64' },
  out: { type: 'string' },
  seed: { type: 'string', default: '0' },
  'val-fraction': { type: 'string', default: '0.05' },
  concurrency: { type: 'string', default: '2' },
  'max-per-category': { type: 'string', default: '0' },
} as const;

async function runOpenclipart(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...buildFlags, limit: { type: 'string' }, root: { type: 'string' } }, allowPositionals: false });
  const common = commonOptions(values);
  const limit = values.limit === undefined ? undefined : numberFlag('--limit', values.limit, { integer: true, min: 1, max: Number.MAX_SAFE_INTEGER });
  const outDir = values.out ?? `.cache/openclipart-${common.size}`;
  const report = await buildOpenclipartDataset({
    ...common,
    outDir,
    ...(limit === undefined ? {} : { limit }),
    ...(values.root === undefined ? {} : { root: values.root }),
    onProgress: progressPrinter(),
    log: (line) => console.log(line),
  });
  printSummary(report, outDir);
  return 0;
}

async function runEmoji(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...buildFlags, sets: { type: 'string' }, packages: { type: 'string' } }, allowPositionals: false });
  const common = commonOptions(values);
  const outDir = values.out ?? `.cache/emoji-${common.size}`;
  const report = await buildEmojiDataset({
    ...common,
    outDir,
    ...(values.sets === undefined ? {} : { sets: parseEmojiSets(values.sets) }),
    ...(values.packages === undefined ? {} : { packagesDir: values.packages }),
    onProgress: progressPrinter(),
    log: (line) => console.log(line),
  });
  printSummary(report, outDir);
  console.log(`wrote ${outDir}/ATTRIBUTION.md`);
  return 0;
}

async function runShapes(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...buildFlags, 'per-color': { type: 'string', default: '20' } }, allowPositionals: false });
  const common = commonOptions(values);
  const outDir = values.out ?? `.cache/shapes-${common.size}`;
  const report = await buildShapesDataset({
    ...common,
    outDir,
    perColor: numberFlag('--per-color', values['per-color'], { integer: true, min: 1, max: 1000 }),
    onProgress: progressPrinter(),
    log: (line) => console.log(line),
  });
  printSummary(report, outDir);
  return 0;
}

async function runFolder(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...buildFlags, fit: { type: 'string', default: 'auto' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new InputError(`data folder: expected one folder, got ${positionals.length} (${positionals.join(' ')})`);
  const dir = positionals[0] as string;
  const fit = values.fit;
  if (fit !== 'auto' && fit !== 'crop' && fit !== 'pad') throw new InputError(`--fit ${fit} is not auto, crop or pad`);
  const common = commonOptions(values);
  const outDir = values.out ?? `.cache/${basename(resolve(dir))}-${common.size}`;
  if (resolve(outDir) === resolve(dir)) throw new InputError(`--out ${outDir} is the input folder; choose another`);
  const sources = await folderSources(dir, { fit: fit as FitChoice });
  if (sources.length === 0) throw new InputError(`${dir} holds no .png .jpg .jpeg .webp or .svg pictures`);
  console.log(`folder: ${sources.length} pictures in ${dir}; rendering at ${common.size}px into ${outDir}`);
  const report = await buildDataset(sources, {
    ...common,
    outDir,
    name: basename(resolve(dir)),
    onProgress: progressPrinter(),
    extraReport: { root: resolve(dir), fit },
  });
  printSummary(report, outDir);
  return 0;
}

async function runSheet(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { out: { type: 'string' }, count: { type: 'string', default: '64' }, seed: { type: 'string', default: '0' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new InputError(`data sheet: expected one dataset folder, got ${positionals.length}`);
  const dir = positionals[0] as string;
  const out = values.out ?? `${dir}/sheet.png`;
  const png = await contactSheet(dir, {
    count: numberFlag('--count', values.count, { integer: true, min: 1, max: 1024 }),
    seed: numberFlag('--seed', values.seed, { integer: true, min: 0, max: 0xffffffff }),
  });
  writeFileAtomic(out, png);
  console.log(`wrote ${out}`);
  return 0;
}

function commonOptions(values: { size: string; seed: string; 'val-fraction': string; concurrency: string; 'max-per-category': string }): {
  size: number;
  seed: number;
  valFraction: number;
  concurrency: number;
  maxPerCategory: number;
} {
  const valFraction = Number(values['val-fraction']);
  if (values['val-fraction'].trim() === '' || !(valFraction >= 0 && valFraction < 1)) {
    throw new InputError(`--val-fraction ${values['val-fraction']} is not a number in [0, 1)`);
  }
  return {
    size: numberFlag('--size', values.size, { integer: true, min: 8, max: 4096 }),
    seed: numberFlag('--seed', values.seed, { integer: true, min: 0, max: 0xffffffff }),
    valFraction,
    concurrency: numberFlag('--concurrency', values.concurrency, { integer: true, min: 1, max: 64 }),
    maxPerCategory: numberFlag('--max-per-category', values['max-per-category'], { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER }),
  };
}

/** A progress line on stderr: rewritten in place on a terminal, every 10% otherwise. */
function progressPrinter(): (p: BuildProgress) => void {
  const started = Date.now();
  let lastDraw = 0;
  let lastTenth = -1;
  return (p) => {
    const elapsed = (Date.now() - started) / 1000;
    const line = `  ${p.done}/${p.total} (${((100 * p.done) / p.total).toFixed(0)}%) ${elapsed.toFixed(1)} s` + (p.resumed ? `, ${p.resumed} resumed` : '');
    if (process.stderr.isTTY) {
      if (Date.now() - lastDraw > 100 || p.done === p.total) {
        process.stderr.write(`\r${line}${p.done === p.total ? '\n' : ''}`);
        lastDraw = Date.now();
      }
    } else {
      const tenth = Math.floor((10 * p.done) / p.total);
      if (tenth !== lastTenth) {
        process.stderr.write(`${line}\n`);
        lastTenth = tenth;
      }
    }
  };
}

function printSummary(r: BuildReport, outDir: string): void {
  const d = r.dropped;
  const capped = d.capped > 0 ? `, ${d.capped} over --max-per-category` : '';
  console.log(
    `kept ${r.counts.kept} of ${r.counts.found} (train ${r.counts.train}, val ${r.counts.val}); dropped ${d.broken} broken, ${d.blank} blank, ${d.duplicate} duplicates${capped}`,
  );
  console.log(`time ${r.time.seconds.toFixed(1)} s (${r.time.rendered} rendered, ${r.time.msPerRender} ms each; ${r.time.resumed} resumed)`);
  console.log(`wrote ${outDir}/manifest.jsonl, ${outDir}/report.json and ${r.counts.kept} images in ${outDir}/images/`);
}
