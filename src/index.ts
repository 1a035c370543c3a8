/**
 * gesso's public API. Everything the `gesso` command (and later the server and web studio) can do is a
 * function here; anything not exported from this file is internal and may change without notice.
 *
 *   import { loadModel, generate, writeImageFile } from 'gesso';
 *   const model = await loadModel();                       // the shipped default model
 *   const { images } = await generate(model, { prompt: 'a red star', seed: 5 });
 *   await writeImageFile('star.png', images[0].pixels, images[0].width, images[0].height, images[0].metadata);
 *   await model.release();
 */

// Errors: GessoError and its subclasses are a user's bad input (their message says what to change);
// InternalError and its subclasses are bugs inside gesso.
export { GessoError, InputError, InternalError, ShapeError } from './core/errors.ts';
export { Rng } from './core/rng.ts';
export { DEFAULT_MODEL_DIR, PACKAGE_ROOT } from './core/paths.ts';

// Text to image, image to image, inpainting.
export { DiffusionModel, loadModel, type LoadModelOptions, type ModelSpec } from './pipelines/model-folder.ts';
export {
  generate,
  GenerationCancelled,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
  type GeneratedImage,
  type GenerateTimings,
  type Settings,
  type StepEvent,
} from './pipelines/generate.ts';
export { requestFromRecipe, type Recipe } from './pipelines/recipe.ts';
export type { LatentPreview } from './pipelines/latents.ts';
export { loadUpscaler, type LoadedUpscaler } from './pipelines/upscaler.ts';

// Schedulers (samplers), by diffusers class name or A1111 name.
export {
  createScheduler,
  listSchedulers,
  loadSchedulerConfig,
  lookupScheduler,
  type Scheduler,
  type SchedulerConfig,
  type SchedulerInfo,
  type SamplingPlan,
} from './schedulers/index.ts';

// Tokenizers and A1111 prompt weighting.
export type { Tokenizer, EncodedText } from './text/tokenizer.ts';
export { ClipTokenizer, loadClipTokenizer } from './text/clip-tokenizer.ts';
export { WordTokenizer, loadWordTokenizer } from './text/word-tokenizer.ts';
export { loadTokenizer } from './text/load-tokenizer.ts';
export { parsePromptWeights, weightedTokens, type PromptFragment, type WeightedPrompt } from './text/prompt-weights.ts';

// Images and their metadata (A1111 parameters, gesso recipe, IPTC provenance, ComfyUI graphs).
export { decodeImage, readImageInfo, type DecodedImage, type ImageInfo } from './image/read-info.ts';
export { encodePng, writeImageFile, type ImageMetadata } from './image/write-image.ts';

// The engine: graph builder, layers, autodiff, ONNX export, sessions, training.
export { Graph, Tensor } from './graph/graph.ts';
export * as ops from './graph/ops/index.ts';
export * as nn from './nn/index.ts';
export { exportOnnx, type ExportOptions, type ExportedModel } from './graph/export.ts';
export { saveOnnx } from './graph/save.ts';
export { gradients } from './autodiff/grad.ts';
export { buildTrainStep, type TrainStep, type TrainStepOptions } from './autodiff/train-step.ts';
export type { OptimizerConfig } from './autodiff/optimizers.ts';
export { Session } from './runtime/session.ts';
export { WorkerSession } from './runtime/worker-session.ts';
export type { Runner, RunOptions, SessionOptions, ValueInfo } from './runtime/runner.ts';
export { tensor, type DType, type HostTensor } from './runtime/tensor.ts';
export { TrainSession, TrainingDivergedError } from './train/train-session.ts';
export { trainLoop, type TrainLoopOptions, type TrainLoopResult } from './train/loop.ts';
export { trainXor } from './train/xor-demo.ts';
export { readSafetensors, writeSafetensors, type SafetensorsFile } from './weights/safetensors.ts';

// Data sets, training the default model, evaluation.
export { buildDataset, type BuildOptions, type BuildReport } from './data/build-dataset.ts';
export { buildOpenclipartDataset } from './data/openclipart.ts';
export { folderSources } from './data/folder-source.ts';
export { trainDefaultModel, type TrainDefaultOptions } from './train/default-model/train-default-model.ts';
export { runDefaultEval, type EvalReport } from './eval/default-eval.ts';

// Fine-tuning on the artist's own pictures: LoRA training, LoRA files (kohya/A1111 keys), merging at load.
export { finetune, FINETUNE_METHODS, type FinetuneMethod, type FinetuneOptions } from './train/finetune/finetune.ts';
export { trainLora, type LoraTrainingOptions, type LoraTrainingResult } from './train/finetune/train-lora.ts';
export { readLoraFile, writeLoraFile, kohyaKey, type LoraFile, type LoraModule } from './weights/lora-file.ts';
export { mergeLoras, type WeightedLora } from './pipelines/lora-merge.ts';
export { chooseLoras, parseLoraArgument, DEFAULT_LORA_DIR } from './pipelines/lora-choice.ts';
export type { LoraChoice } from './pipelines/model-folder.ts';
export { extractLoraTags, type LoraTag } from './text/lora-tags.ts';
export { runLoraEval, type LoraEvalOptions, type LoraEvalReport } from './eval/lora-eval.ts';
