/**
 * Trains the shipped AdaIN decoder: node --import tsx scripts/train-adain.ts [--steps N] [--out DIR]
 * Data: scripts/style-data.ts (run it first). Resumes from .cache/train-adain/checkpoint.safetensors.
 */
import { parseArgs } from 'node:util';
import { ADAIN_DEFAULT, ADAIN_EIGHTH, ADAIN_QUARTER } from '../src/style/adain.ts';
import { defaultEncoder } from '../src/style/encoder.ts';
import { exportAdainCheckpoint, TRAIN_ADAIN_DEFAULTS, trainAdainDecoder } from '../src/style/train-adain.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string' },
    out: { type: 'string' },
    data: { type: 'string' },
    run: { type: 'string' },
    size: { type: 'string' },
    lr: { type: 'string' },
    init: { type: 'string' },
    'style-weight': { type: 'string' },
    // Replaced decoders: 'eighth' (AdaIN at 1/8, zero padding), 'quarter' (1/4, reflect, no colour matching);
    // default ADAIN_DEFAULT (1/4, reflect, output colours matched to the style).
    variant: { type: 'string' },
    'export-checkpoint': { type: 'boolean' },
  },
});
const data = values.data ?? '.cache/style-data';
const variants = { eighth: ADAIN_EIGHTH, quarter: ADAIN_QUARTER } as const;
if (values.variant && !(values.variant in variants)) throw new Error(`--variant ${values.variant}: expected "eighth", "quarter" or none`);
const config = values.variant ? variants[values.variant as keyof typeof variants] : ADAIN_DEFAULT;
if (values['export-checkpoint']) {
  // Ship the latest checkpoint of a run that was stopped before its last step.
  const run = values.run ?? '.cache/train-adain';
  const settings = {
    ...TRAIN_ADAIN_DEFAULTS,
    steps: Number(values.steps ?? TRAIN_ADAIN_DEFAULTS.steps),
    contentDir: `${data}/content`,
    styleDir: `${data}/styles`,
  };
  const step = exportAdainCheckpoint(`${run}/checkpoint.safetensors`, values.out ?? 'models/gesso-adain-v1', {
    encoder: defaultEncoder().id,
    ...config,
    training: settings,
  });
  console.log(`exported the step-${step} checkpoint`);
  process.exit(0);
}
await trainAdainDecoder({
  contentDir: `${data}/content`,
  styleDir: `${data}/styles`,
  runDir: values.run ?? '.cache/train-adain',
  out: values.out ?? 'models/gesso-adain-v1',
  config,
  ...(values.steps ? { steps: Number(values.steps) } : {}),
  ...(values.size ? { size: Number(values.size) } : {}),
  ...(values.lr ? { lr: Number(values.lr) } : {}),
  ...(values.init ? { init: values.init } : {}),
  ...(values['style-weight'] ? { styleWeight: Number(values['style-weight']) } : {}),
});
