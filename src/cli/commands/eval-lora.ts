import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../../core/errors.ts';
import { DEFAULT_MODEL_DIR, PACKAGE_ROOT } from '../../core/paths.ts';
import { runLoraEval } from '../../eval/lora-eval.ts';
import { parseLoraArgument } from '../../pipelines/lora-choice.ts';

export const loraEvalUsage = `Usage: gesso eval lora --lora FILE[:W] | --embedding FILE | --after-model DIR --folder DIR [options]

What a fine-tune did (a LoRA, a textual-inversion embedding, a fully fine-tuned model folder, or several):
Fréchet distance (default evaluation's classifier features) to the folder's pictures before and
after, and forgetting on the default evaluation's 10 categories (CAS, Fréchet to their held-out drawings), plus a before/after grid with the same prompts and seeds. The last line of
stdout is one JSON object.

  --model DIR      model folder (default models/gesso-default-v2)
  --lora FILE[:W]  the LoRA and its weight (default 1)
  --embedding FILE a textual-inversion embedding (repeatable)
  --after-model DIR  a fine-tuned model folder (--method full) to compare with --model
  --folder DIR     \`gesso data\` folder of the pictures it learned
  --data DIR       \`gesso data openclipart --size 64\` folder (default .cache/openclipart-64)
  --cache DIR      classifier cache (default .cache/eval)
  --seeds N        pictures per category prompt (default 20)
  --grid FILE      before/after grid (default docs/finetune-lora.png)
  --report FILE    JSON report (default: beside the LoRA, <lora>.eval.json)`;

export async function runLoraEvalCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string', default: DEFAULT_MODEL_DIR },
      lora: { type: 'string' },
      embedding: { type: 'string', multiple: true },
      'after-model': { type: 'string' },
      folder: { type: 'string' },
      data: { type: 'string', default: join(PACKAGE_ROOT, '.cache/openclipart-64') },
      cache: { type: 'string', default: join(PACKAGE_ROOT, '.cache/eval') },
      seeds: { type: 'string', default: '20' },
      grid: { type: 'string', default: join(PACKAGE_ROOT, 'docs/finetune-lora.png') },
      report: { type: 'string' },
    },
  });
  if (!values.lora && !values.embedding && !values['after-model'])
    throw new InputError('eval lora: give what to measure: --lora FILE[:WEIGHT], --embedding FILE and/or --after-model DIR');
  if (!values.folder) throw new InputError('eval lora: --folder DIR (the gesso data folder the fine-tune learned) is required');
  const seeds = Number(values.seeds);
  if (!Number.isInteger(seeds) || seeds < 2) throw new InputError(`eval lora: --seeds ${values.seeds}: expected a whole number of at least 2`);
  const lora = values.lora ? parseLoraArgument(values.lora) : undefined;
  const report = await runLoraEval({
    modelDir: values.model,
    ...(lora ? { lora } : {}),
    ...(values.embedding ? { embeddings: values.embedding } : {}),
    ...(values['after-model'] ? { afterModelDir: values['after-model'] } : {}),
    folderDir: values.folder,
    dataDir: values.data,
    cacheDir: values.cache,
    gridPath: values.grid,
    seedsPerPrompt: seeds,
    log: (line) => console.error(line),
  });
  const reportPath =
    values.report ?? (lora?.path ?? values.embedding?.[0] ?? join(values['after-model'] ?? '.', 'finetune')).replace(/\.safetensors$/i, '') + '.eval.json';
  writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  console.error(`wrote ${reportPath} and ${values.grid}`);
  console.log(
    JSON.stringify({
      frechet_folder_before: report.before.frechetToFolder,
      frechet_folder_after: report.after.frechetToFolder,
      cas_before: report.before.cas,
      cas_after: report.after.cas,
      frechet_original_before: report.before.frechetOriginal,
      frechet_original_after: report.after.frechetOriginal,
    }),
  );
  return 0;
}
