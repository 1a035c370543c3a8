// Trains gesso's 4× upscaler and exports it into a model folder. Run:
//   node --import tsx scripts/train-upscaler.ts --data .cache/openclipart-256 --out .cache/upscaler-run \
//     --steps 3000 --export models/gesso-clipart-v1 [--quick] [--no-resume] [--threads N]
// The data folder comes from `gesso data openclipart --size 256 --limit 2500 --out .cache/openclipart-256`.
import { parseArgs } from 'node:util';
import { InputError } from '../src/core/errors.ts';
import { trainUpscaler } from '../src/train/upscaler-training.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '.cache/openclipart-256' },
    out: { type: 'string', default: '.cache/upscaler-run' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    crop: { type: 'string' },
    lr: { type: 'string' },
    threads: { type: 'string' },
    channels: { type: 'string' },
    blocks: { type: 'string' },
    'sample-every': { type: 'string' },
    'eval-images': { type: 'string' },
    export: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-resume': { type: 'boolean', default: false },
  },
});

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InputError(`--${flag} "${v}" is not a positive number`);
  return n;
}

const opt = <T>(key: string, v: T | undefined): Record<string, T> => (v === undefined ? {} : { [key]: v });
const result = await trainUpscaler({
  dataDir: values.data,
  outDir: values.out,
  quick: values.quick,
  resume: !values['no-resume'],
  ...opt('steps', num('steps', values.steps)),
  ...opt('batchSize', num('batch', values.batch)),
  ...opt('crop', num('crop', values.crop)),
  ...opt('lr', num('lr', values.lr)),
  ...opt('threads', num('threads', values.threads)),
  ...opt('channels', num('channels', values.channels)),
  ...opt('blocks', num('blocks', values.blocks)),
  ...opt('sampleEvery', num('sample-every', values['sample-every'])),
  ...opt('evalImages', num('eval-images', values['eval-images'])),
  ...opt('exportTo', values.export),
});
console.log(
  JSON.stringify({ steps: result.steps, params: result.params, seconds: Math.round(result.seconds), metrics: result.metrics, files: result.files }, null, 2),
);
