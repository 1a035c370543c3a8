import { DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME } from '../../core/paths.ts';
import { existsSync } from 'node:fs';
import { chooseLoras, DEFAULT_LORA_DIR, parseLoraArgument } from '../../pipelines/lora-choice.ts';
import { chooseEmbeddings, DEFAULT_EMBEDDING_DIR, embeddingWord } from '../../pipelines/embedding-choice.ts';
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { isJsonObject } from '../../core/json.ts';
import { escapeForTerminal } from '../../core/terminal-text.ts';
import { checkImageFile, MAX_DECODE_SIDE, readImageInfo } from '../../image/read-info.ts';
import { generate, type GenerateRequest } from '../../pipelines/generate.ts';
import { DiffusionModel } from '../../pipelines/model-folder.ts';
import { recipeAdapters, recipeSources, requestFromRecipe } from '../../pipelines/recipe.ts';
import { recipeRuntime, remakeExpectation } from '../../pipelines/remake.ts';
import type { RuntimeInfo } from '../../runtime/runtime-info.ts';
import { sha256File } from '../../weights/hash.ts';
import { formatBytes } from '../../pipelines/memory-estimate.ts';
import { checkRequest, DEFAULT_CFG, DEFAULT_STEPS, defaultMemoryLimit, MAX_BATCH, MAX_SIDE } from '../../pipelines/settings.ts';
import { ProgressBar } from '../../train/progress.ts';
import { readLatentsFile, writeLatentsFile } from '../../pipelines/latents-file.ts';
import { numberFlag } from '../flags.ts';
import { parseFlags } from '../flags.ts';
import type { Command } from '../command.ts';
import { readPromptFile, readPromptStdin } from '../../text/prompt-input.ts';
import { planOutput, writeImages } from '../generate-output.ts';

/** gesso's own default model, in the repository's models/ folder. */

const usage = `Usage: gesso generate "PROMPT" [options]
       gesso generate --prompt-file FILE [options]     (or PROMPT "-": read it from standard input)
       gesso generate --recipe IMAGE.png [options]

Makes images from a text prompt with a Stable Diffusion model folder (diffusers ONNX layout), or
restyles (--init) or repaints part of (--init + --mask) an image. Writes PNGs that carry the settings
(A1111 "parameters", gesso recipe, IPTC AI-provenance XMP); \`gesso info IMAGE\` shows them.

Options:
  --model DIR         model folder (default: models/gesso-default-v2)
  --prompt-file FILE  read the prompt from a UTF-8 text file (for prompts too long to type)
  --negative TEXT     negative prompt
  --steps N           denoising steps (default ${DEFAULT_STEPS})
  --cfg X             classifier-free guidance scale (default ${DEFAULT_CFG}; 1 or less: prompt alone)
  --scheduler NAME    e.g. "DPM++ 2M Karras", "Euler a", DDIMScheduler (default: the model's;
                      \`gesso schedulers\` lists them)
  --seed N            0..4294967295 (default: random); image i of a batch uses N + i
  --size WxH          size of the picture written, in pixels (default: the model's, or the init
                      image's). With the model's upscaler (default model: 4×), gesso generates at
                      about a quarter of it and resizes the upscaled picture to exactly WxH; with
                      --no-upscale or a model without one, a multiple of the VAE's factor (SD: 8)
  --batch N           images to make (default 1)
  --init IMAGE        start from this image (img2img)
  --strength S        how far from the init image to go, in (0, 1] (default 0.75; 1 with --mask)
  --mask IMAGE        inpaint: white areas are repainted, black kept (needs --init)
  --eta X             DDIM eta (default 0)
  --no-upscale        skip the model's upscaler/ (if it has one)
  --max-memory GB     refuse requests estimated to need more (default: 80% of RAM, here ${formatBytes(defaultMemoryLimit())})
  --recipe IMAGE      re-make the image a gesso PNG's recipe describes; other options override it.
                      Byte for byte when ORT version and CPU kernels match the recipe's; it says which
  --latents FILE      start from this noise instead of the seed's: safetensors, tensor "latents"
                      (B, C, h, w) float32 at unit variance (diffusers' \`latents\`); B = --batch
  --save-latents FILE write the final latents (before the VAE decoder) in that format
  --out FILE|DIR      a .png file, or a folder (default: ./outputs/); in a folder a taken name gets -2, -3 …
  --overwrite         replace existing files (without it gesso never replaces a file it did not make)
  --lora FILE[:W]     merge a LoRA (kohya/A1111 safetensors) into the model at weight W (default 1);
                      repeatable. The prompt tag <lora:NAME:W> does the same with LORA_DIR/NAME.safetensors
  --lora-dir DIR      where <lora:NAME> tags look (default: ./loras)
  --embedding FILE    load a textual-inversion embedding (A1111 safetensors, emb_params); its file name
                      (without .safetensors) becomes a word the prompt can use; repeatable
  --embeddings-dir DIR  every DIR/WORD.safetensors whose WORD the prompt or negative prompt writes is
                      loaded (default: ./embeddings)

Limits (checked before anything runs; see README "Security"): sides up to ${MAX_SIDE} px, batch up to ${MAX_BATCH},
prompts up to 100,000 characters (prompt files up to 1 MiB), init images and masks up to ${MAX_DECODE_SIDE}x${MAX_DECODE_SIDE}
pixels and 256 MiB, emphasis weights up to 100. Memory is estimated per request: attention memory grows with the
square of the pixel count the model generates at (the default model needs about 3.5 GB at 512x512 with --no-upscale
and about 50 GB at 1024x1024; with its upscaler it generates at a quarter of --size), and requests over the limit are
refused with the estimate.

Prompts use A1111 emphasis: (word) x1.1, [word] /1.1, (word:1.3); BREAK starts a new 75-token chunk.
Prompts longer than 8 chunks (600 tokens) are cut, with a warning.`;

export const generateCommand: Command = {
  usage,
  async run(args: string[]): Promise<number> {
    const parsed = parseFlags('generate', {
      args,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        'prompt-file': { type: 'string' },
        negative: { type: 'string' },
        steps: { type: 'string' },
        cfg: { type: 'string' },
        scheduler: { type: 'string' },
        seed: { type: 'string' },
        size: { type: 'string' },
        batch: { type: 'string' },
        init: { type: 'string' },
        strength: { type: 'string' },
        mask: { type: 'string' },
        eta: { type: 'string' },
        'max-memory': { type: 'string' },
        'no-upscale': { type: 'boolean', default: false },
        recipe: { type: 'string' },
        latents: { type: 'string' },
        'save-latents': { type: 'string' },
        out: { type: 'string' },
        overwrite: { type: 'boolean', default: false },
        lora: { type: 'string', multiple: true },
        'lora-dir': { type: 'string' },
        embedding: { type: 'string', multiple: true },
        'embeddings-dir': { type: 'string' },
      },
    });
    const { values, positionals } = parsed;
    const { request, recipeModelHash, recipeRuntime: madeOn, recipeAdapters: recordedAdapters } = await buildRequest(values, positionals);
    const output = planOutput(values.out, values.overwrite === true);
    const modelDir = values.model ?? DEFAULT_MODEL_DIR;
    if (values.model === undefined && !existsSync(modelDir)) throw new InputError(`no default model at models/${DEFAULT_MODEL_NAME}; pass --model DIR`);
    // Everything that needs no model is checked before loading one (seconds, hundreds of MB).
    checkRequest(request);
    if (typeof request.initImage === 'string') await checkImageFile(request.initImage, { what: 'init image' });
    if (typeof request.mask === 'string') await checkImageFile(request.mask, { what: 'mask' });

    const loraDir = values['lora-dir'] ?? DEFAULT_LORA_DIR;
    const embeddingDir = values['embeddings-dir'] ?? DEFAULT_EMBEDDING_DIR;
    const recorded = recordedAdapters ? await recipeFiles(recordedAdapters, values.lora ?? [], values.embedding ?? [], loraDir, embeddingDir) : null;
    const loras = chooseLoras(request.prompt ?? '', [...(values.lora ?? []), ...(recorded?.loras ?? [])], loraDir);
    const embeddings = chooseEmbeddings(
      [request.prompt ?? '', request.negativePrompt ?? ''],
      [...(values.embedding ?? []), ...(recorded?.embeddings ?? [])],
      embeddingDir,
    );
    const model = await DiffusionModel.load(modelDir, { loras, embeddings });
    for (const l of model.loras) console.log(`LoRA ${l.name} at weight ${l.weight} merged into the model (${l.path})`);
    for (const e of model.embeddings)
      console.log(`embedding "${e.word}" (${e.vectors} vector${e.vectors > 1 ? 's' : ''}) added to the text encoder (${e.path})`);
    const controller = new AbortController();
    // First Ctrl-C stops after the current step (ORT cannot stop mid-run); nothing is written.
    const onInterrupt = (): void => controller.abort();
    process.once('SIGINT', onInterrupt);
    try {
      let bar: ProgressBar | null = null;
      const result = await generate(model, request, {
        signal: controller.signal,
        onStep: (e) => {
          bar ??= new ProgressBar({ total: e.steps, label: 'generate', unit: 'step' });
          bar.update(e.step, { unet: `${Math.round(e.unetMs)}ms` });
        },
      });
      const madeWith = result.images[0]?.recipe.model.hash;
      if (recipeModelHash !== undefined && madeWith !== recipeModelHash) {
        result.warnings.push(`the recipe was made with model hash ${recipeModelHash}, this model's is ${madeWith}: the image will differ`);
      }
      for (const w of result.warnings) console.error(`gesso: warning: ${escapeForTerminal(w)}`);
      if (madeOn !== undefined && madeWith === recipeModelHash) console.log(`recipe: ${remakeExpectation(madeOn).message}`);
      const written = await writeImages(output, result.images);
      const saveLatents = values['save-latents'];
      if (typeof saveLatents === 'string') {
        const s = result.settings;
        const f = model.spec.vaeScaleFactor;
        writeLatentsFile(
          saveLatents,
          result.images.map((im) => im.latents),
          [model.spec.latentChannels, s.height / f, s.width / f],
        );
        console.log(`wrote ${saveLatents} (final latents)`);
      }
      const s = result.settings;
      for (const [i, path] of written.entries()) {
        const im = result.images[i]!;
        console.log(`wrote ${escapeForTerminal(path)} (${im.width}x${im.height}, seed ${im.seed})`);
      }
      const t = result.timings;
      const perStep = t.unetMs.length > 0 ? t.unetTotalMs / t.unetMs.length : 0;
      console.log(
        `${s.mode}, ${s.scheduler.name}, ${t.unetMs.length} UNet steps: ${(t.unetTotalMs / 1000).toFixed(2)} s (${perStep.toFixed(0)} ms/step), ` +
          `VAE decode ${sum(t.vaeDecodeMs).toFixed(0)} ms${t.upscaleMs.length ? `, upscale ${sum(t.upscaleMs).toFixed(0)} ms` : ''}, total ${(t.totalMs / 1000).toFixed(2)} s`,
      );
      return 0;
    } finally {
      process.off('SIGINT', onInterrupt);
      await model.release();
    }
  },
};

type Values = Record<string, string | boolean | string[] | undefined>;

interface BuiltRequest {
  request: GenerateRequest;
  /** With --recipe: the model hash and runtime the recipe records (null runtime: not recorded). */
  recipeModelHash?: string;
  recipeRuntime?: RuntimeInfo | null;
  /** With --recipe: the LoRAs and embeddings it records. */
  recipeAdapters?: ReturnType<typeof recipeAdapters>;
}

async function buildRequest(values: Values, promptArgs: string[]): Promise<BuiltRequest> {
  const text = (key: string): string | undefined => (typeof values[key] === 'string' ? (values[key] as string) : undefined);
  let positionals = promptArgs;
  let request: GenerateRequest;
  let recipeModelHash: string | undefined;
  let recipeImages: ReturnType<typeof recipeSources> = { initImage: null, mask: null };
  let madeOn: RuntimeInfo | null | undefined;
  let adapters: ReturnType<typeof recipeAdapters> | undefined;
  const recipePath = text('recipe');
  const promptFile = text('prompt-file');
  if (promptFile !== undefined && positionals.length > 0)
    throw new InputError(
      `give the prompt either as text or with --prompt-file, not both (got ${JSON.stringify(positionals[0])} and --prompt-file ${promptFile})`,
    );
  if (promptFile !== undefined) positionals = [readPromptFile(promptFile)];
  else if (positionals.length === 1 && positionals[0] === '-') positionals = [await readPromptStdin()];
  if (recipePath !== undefined) {
    const info = await readImageInfo(recipePath);
    if (!info.recipe) throw new InputError(`${recipePath} carries no gesso recipe (it was not made by gesso generate)`);
    request = requestFromRecipe(info.recipe, recipePath);
    recipeImages = recipeSources(info.recipe, recipePath);
    const model = info.recipe.model;
    if (isJsonObject(model) && typeof model.hash === 'string') recipeModelHash = model.hash;
    madeOn = recipeRuntime(info.recipe);
    adapters = recipeAdapters(info.recipe, recipePath);
    if (positionals.length > 0) request.prompt = positionals.join(' ');
  } else {
    if (positionals.length === 0) throw new InputError('gesso generate needs a prompt: gesso generate "a lighthouse at dusk"');
    if (positionals.length > 1) throw new InputError(`gesso generate takes one prompt; quote it: gesso generate "${positionals.join(' ')}"`);
    request = { prompt: positionals[0] as string };
  }
  const negative = text('negative');
  if (negative !== undefined) request.negativePrompt = negative;
  const steps = text('steps');
  if (steps !== undefined) request.steps = numberFlag('--steps', steps);
  const cfg = text('cfg');
  if (cfg !== undefined) request.cfgScale = numberFlag('--cfg', cfg);
  const scheduler = text('scheduler');
  if (scheduler !== undefined) {
    request.scheduler = scheduler;
    delete request.schedulerConfig; // a recipe's config belongs to its own scheduler
  }
  const seed = text('seed');
  if (seed !== undefined) request.seed = numberFlag('--seed', seed);
  const size = text('size');
  if (size !== undefined) {
    const m = /^(\d+)x(\d+)$/i.exec(size.trim());
    if (!m) throw new InputError(`--size "${size}": expected WIDTHxHEIGHT, e.g. 512x512`);
    request.width = Number(m[1]);
    request.height = Number(m[2]);
  }
  const batch = text('batch');
  if (batch !== undefined) request.batchSize = numberFlag('--batch', batch);
  const init = text('init');
  if (init !== undefined) request.initImage = init;
  const strength = text('strength');
  if (strength !== undefined) request.strength = numberFlag('--strength', strength);
  const mask = text('mask');
  if (mask !== undefined) request.mask = mask;
  // A recipe's init image and mask are never read from the paths it names: the user passes them.
  for (const [flag, recorded, given] of [
    ['--init', recipeImages.initImage, init],
    ['--mask', recipeImages.mask, mask],
  ] as const) {
    if (recorded === null) continue;
    if (given === undefined) {
      throw new InputError(
        `${recipePath} was made from ${flag === '--init' ? 'an init image' : 'a mask'}${recorded.path !== null ? ` recorded as ${JSON.stringify(recorded.path)}` : ''}; ` +
          `gesso does not read files a recipe names: pass it with ${flag} FILE (its SHA-256 is compared with the recipe's)`,
      );
    }
    if (recorded.sha256 !== null && (await sha256File(given)) !== recorded.sha256) {
      console.error(
        `gesso: warning: ${flag} ${escapeForTerminal(JSON.stringify(given))} is not the file the recipe was made from (SHA-256 differs): the image will differ`,
      );
    }
  }
  const eta = text('eta');
  if (eta !== undefined) request.eta = numberFlag('--eta', eta);
  if (values['no-upscale'] === true) request.upscale = false;
  const latents = text('latents');
  if (latents !== undefined) {
    request.latents = readLatentsFile(latents).items;
    request.batchSize ??= request.latents.length;
  }
  const maxMemory = text('max-memory');
  if (maxMemory !== undefined) {
    const gb = numberFlag('--max-memory', maxMemory);
    if (!(gb > 0)) throw new InputError(`--max-memory "${maxMemory}": expected a positive number of gigabytes`);
    request.maxMemoryBytes = gb * 1024 ** 3;
  }
  return {
    request,
    ...(recipeModelHash !== undefined ? { recipeModelHash } : {}),
    ...(madeOn !== undefined ? { recipeRuntime: madeOn } : {}),
    ...(adapters !== undefined ? { recipeAdapters: adapters } : {}),
  };
}

/**
 * The files of the LoRAs and embeddings a recipe records, as --lora FILE:W / --embedding FILE values:
 * found among the user's --lora/--embedding files by name, else in the LoRA/embeddings folder. A file
 * that is missing is an error naming it and how to pass it; one whose SHA-256 differs is a warning.
 */
async function recipeFiles(
  recorded: ReturnType<typeof recipeAdapters>,
  loraArgs: readonly string[],
  embeddingArgs: readonly string[],
  loraDir: string,
  embeddingDir: string,
): Promise<{ loras: string[]; embeddings: string[] }> {
  const given = loraArgs.map(parseLoraArgument);
  const find = async (what: string, name: string, sha256: string, path: string | undefined, hint: string): Promise<string> => {
    if (path === undefined || !existsSync(path)) {
      throw new InputError(`the recipe was made with ${what} (SHA-256 ${sha256.slice(0, 12)}…): no file ${path ?? name}; ${hint}`);
    }
    if ((await sha256File(path)) !== sha256)
      console.error(`gesso: warning: ${escapeForTerminal(path)} is not the ${what} the recipe was made with (SHA-256 differs): the image will differ`);
    return path;
  };
  const loras: string[] = [];
  for (const l of recorded.loras) {
    if (given.some((g) => embeddingWord(g.path) === l.name)) continue; // the user's own choice wins
    const path = join(loraDir, `${l.name}.safetensors`);
    await find(`LoRA "${l.name}" at weight ${l.weight}`, l.name, l.sha256, path, `pass it with --lora FILE:${l.weight} or --lora-dir DIR`);
    loras.push(`${path}:${l.weight}`);
  }
  const embeddings: string[] = [];
  for (const e of recorded.embeddings) {
    const mine = embeddingArgs.find((f) => embeddingWord(f).toLowerCase() === e.word.toLowerCase());
    const path = mine ?? join(embeddingDir, `${e.word}.safetensors`);
    await find(`embedding "${e.word}"`, e.word, e.sha256, path, 'pass it with --embedding FILE or --embeddings-dir DIR');
    if (!mine) embeddings.push(path);
  }
  return { loras, embeddings };
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
