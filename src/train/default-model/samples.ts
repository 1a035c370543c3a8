/** Sample grids while and after training: the real pipeline on an exported snapshot of the model. */
import { DiffusionModel, type LoraChoice } from '../../pipelines/model-folder.ts';
import { generate } from '../../pipelines/generate.ts';
import { writeImageFile } from '../../image/write-image.ts';

export const SAMPLE_PROMPTS = ['a red star', 'a blue star', 'a green tree', 'a yellow sun', 'a cat', 'a house', 'a car', 'a red apple'];

/** Rows of prompts, columns of seeds, each cell `size` px (as generated, no upscaling). */
export async function sampleGrid(
  modelDir: string,
  outPath: string,
  options: {
    prompts?: string[];
    seeds?: number;
    steps?: number;
    cfg?: number;
    loras?: readonly LoraChoice[];
    /** Textual-inversion embedding files to load. */
    embeddings?: readonly string[];
    size?: number;
  } = {},
): Promise<void> {
  const prompts = options.prompts ?? SAMPLE_PROMPTS;
  const seeds = options.seeds ?? 4;
  const model = await DiffusionModel.load(modelDir, {
    runner: 'in-process',
    upscaler: false,
    ...(options.loras ? { loras: options.loras } : {}),
    ...(options.embeddings ? { embeddings: options.embeddings } : {}),
  });
  try {
    const rows: Float32Array[][] = [];
    let size = 0;
    for (const prompt of prompts) {
      const r = await generate(model, {
        prompt,
        seed: 1,
        batchSize: seeds,
        steps: options.steps ?? 20,
        cfgScale: options.cfg ?? 5,
        upscale: false,
        ...(options.size ? { width: options.size, height: options.size } : {}),
      });
      rows.push(r.images.map((im) => im.pixels));
      size = r.images[0]?.width ?? 0;
    }
    const gap = 2;
    const width = seeds * size + (seeds + 1) * gap;
    const height = prompts.length * size + (prompts.length + 1) * gap;
    const out = new Float32Array(width * height * 3).fill(0.5);
    rows.forEach((row, r) => {
      row.forEach((pix, c) => {
        for (let y = 0; y < size; y++) {
          const dst = ((gap + r * (size + gap) + y) * width + gap + c * (size + gap)) * 3;
          out.set(pix.subarray(y * size * 3, (y + 1) * size * 3), dst);
        }
      });
    });
    await writeImageFile(outPath, out, width, height, 3);
  } finally {
    await model.release();
  }
}
