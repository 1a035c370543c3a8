/**
 * Child part of `npm run bench:diffusion`: builds an SD 1.5-shaped UNet (SD15_UNET, 860M parameters)
 * with random weights and saves it to `--out DIR/model.onnx` + `model.onnx_data` (3.44 GB of float32
 * weights: past protobuf's 2 GB, so they go to external data). Prints one JSON line: FLOPs of one run
 * at the built shapes, parameter count, file sizes, times and this process's peak RSS.
 *
 *   node --import tsx bench/diffusion_sd15_build.ts --out DIR [--latent 64] [--batch 2] [--seed 0]
 *
 * Weights: built with init 'zeros' (zero-filled arrays cost no memory until written), then
 * `fastRandomWeights` fills every matrix and kernel at PyTorch's kaiming scale. The values repeat in
 * 64k blocks, which does not change the arithmetic a step does.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../src/core/errors.ts';
import { countFlops } from '../src/graph/flops.ts';
import { saveOnnx } from '../src/graph/save.ts';
import { buildSd15Unet, fastRandomWeights } from '../src/models/fixtures/sd15-shapes.ts';
import { exportUNet } from '../src/models/unet2d-condition.ts';
import { printPartResult } from './lib/part.ts';

// The parent loads DIR/model.onnx; ORT finds the data file by the name recorded in it.
const SD15_MODEL_FILE = 'model.onnx';
const SD15_DATA_FILE = 'model.onnx_data';

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new InputError(`--${name} ${raw}: expected a positive integer`);
  return v;
}

function main(): void {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, latent: { type: 'string' }, batch: { type: 'string' }, seed: { type: 'string' } },
  });
  if (values.out === undefined) throw new InputError('--out DIR is required (an existing, empty folder)');
  const latent = positiveInt('latent', values.latent, 64);
  if (latent % 8 !== 0) throw new InputError(`--latent ${latent}: SD 1.5's UNet needs a multiple of 8`);
  const batch = positiveInt('batch', values.batch, 2);
  const seed = Number(values.seed ?? 0);

  let t = performance.now();
  const built = buildSd15Unet({ init: 'zeros', batch, height: latent, width: latent }); // sample (B, 4, latent, latent)
  fastRandomWeights(built.graph, seed);
  const buildMs = performance.now() - t;
  const flops = countFlops(built.graph, [built.out]);

  t = performance.now();
  const path = join(values.out, SD15_MODEL_FILE);
  saveOnnx(path, exportUNet(built, { externalData: SD15_DATA_FILE }));
  const saveMs = performance.now() - t;

  printPartResult({
    part: 'sd15-build',
    latent,
    batch,
    sequence: built.inputs.encoder_hidden_states.shape[1],
    params: built.graph.paramCount(),
    flops,
    model_bytes: statSync(path).size,
    data_bytes: statSync(join(values.out, SD15_DATA_FILE)).size,
    build_ms: buildMs,
    save_ms: saveMs,
  });
}

main();
