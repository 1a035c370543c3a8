/**
 * Trains the shipped AdaIN decoder: node --import tsx scripts/train-adain.ts [--steps N] [--out DIR]
 * Data: scripts/style-data.ts (run it first). Resumes from .cache/train-adain/checkpoint.safetensors.
 */
import { parseArgs } from 'node:util';
import { trainAdainDecoder } from '../src/style/train-adain.ts';

const { values } = parseArgs({ options: { steps: { type: 'string' }, out: { type: 'string' }, data: { type: 'string' }, run: { type: 'string' }, size: { type: 'string' } } });
const data = values.data ?? '.cache/style-data';
await trainAdainDecoder({
  contentDir: `${data}/content`,
  styleDir: `${data}/styles`,
  runDir: values.run ?? '.cache/train-adain',
  out: values.out ?? 'models/gesso-adain-v1',
  ...(values.steps ? { steps: Number(values.steps) } : {}),
  ...(values.size ? { size: Number(values.size) } : {}),
});
