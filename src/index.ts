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
export { DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME, PACKAGE_ROOT } from './core/paths.ts';

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
export {
  pixelDifference,
  recipeRuntime,
  REMAKE_TOLERANCE,
  remakeExpectation,
  withinRemakeTolerance,
  type PixelDifference,
  type RemakeExpectation,
} from './pipelines/remake.ts';
export { runtimeInfo, type RuntimeInfo } from './runtime/runtime-info.ts';
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
export { buildTrainStep, type Objective, type TrainStep, type TrainStepOptions } from './autodiff/train-step.ts';
/** The NCHWc channel block ONNX Runtime's CPU kernels use on this machine (0: unknown); training steps lower convolutions with it. */
export { nchwcBlockSize } from './core/cpu-features.ts';
export { ortNchwcBlockSize } from './runtime/nchwc-probe.ts';
export type { OptimizerConfig } from './autodiff/optimizers.ts';
export { Session } from './runtime/session.ts';
export { WorkerSession } from './runtime/worker-session.ts';
export type { Runner, RunOptions, SessionOptions, ValueInfo } from './runtime/runner.ts';
export { tensor, type DType, type HostTensor } from './runtime/tensor.ts';
/**
 * The optional oneDNN convolution backend (Debian's libdnnl2 through the npm package koffi): `dnnlStatus()`
 * says whether it is available here (and why not); `dnnlConv2d(geometry)` gives a cached convolution with
 * `forward`, `backwardData` and `backwardWeights` on float32 NCHW arrays. Experimental (issue 9): gesso's
 * training steps do not use it yet.
 */
export { dnnlConv2d, dnnlStatus, releaseDnnlConvs, setDnnlThreads, type DnnlStatus } from './runtime/dnnl/backend.ts';
export type { DnnlConv2d, DnnlConvGeometry, DnnlConvOptions, DnnlConvPass } from './runtime/dnnl/conv2d.ts';
export { TrainSession, TrainingDivergedError } from './train/train-session.ts';
export { trainLoop, type TrainLoopOptions, type TrainLoopResult } from './train/loop.ts';
/** Drops a loss-line file's lines past a resumed checkpoint's step (what trainLoop's `history` option does). */
export { keepHistoryUpTo } from './train/history-file.ts';
export { trainXor } from './train/xor-demo.ts';
/** An exclusive lock on a training run folder: one leg trains it at a time (stale locks are taken over: a dead pid on this host, a heartbeat over 10 min old from another). */
export {
  acquireRunLock,
  readRunLock,
  RunLockedError,
  RUN_LOCK_FILE,
  RUN_LOCK_HEARTBEAT_MS,
  RUN_LOCK_STALE_MS,
  RUN_LOCK_WAIT_MS,
  type RunLock,
  type RunLockHolder,
  type RunLockOptions,
} from './train/run-lock.ts';
export { readSafetensors, writeSafetensors, type SafetensorsFile } from './weights/safetensors.ts';

// Data sets, training the default model, evaluation.
export { buildDataset, type BuildOptions, type BuildReport } from './data/build-dataset.ts';
export { buildOpenclipartDataset } from './data/openclipart.ts';
/** `gesso data emoji`: emoji sets from npm tarballs (Twemoji, Fluent, Noto, OpenMoji), CLDR captions, licence per file. */
export { buildEmojiDataset, type EmojiBuildOptions } from './data/emoji.ts';
export { DEFAULT_EMOJI_SETS, EMOJI_SETS, parseEmojiSets, type EmojiSet, type EmojiSetId } from './data/emoji-sets.ts';
export { buildShapesDataset, SHAPE_COLORS, SHAPE_NAMES, type ShapesBuildOptions } from './data/shapes.ts';
/** Several `gesso data` folders of one size as one training set. */
export { combineDatasets, loadImageDataset, type ImageDataset } from './data/dataset.ts';
export { folderSources } from './data/folder-source.ts';
/** `gesso train default [--version 2|1]`: the plans (config.ts) and the resumable run; CPU time is kept in <run>/cpu.json. */
export { trainDefaultModel, type TrainDefaultOptions } from './train/default-model/train-default-model.ts';
export { defaultModelPlan, type DefaultModelPlan, type PlanVersion } from './train/default-model/config.ts';
/** `gesso eval default [--compare DIR]`: CAS, ceiling, colour adherence, Fréchet, VAE PSNR; a second model on the same held-out set. */
export { runDefaultEval, type EvalReport, type ModelScores } from './eval/default-eval.ts';

// Style transfer: optimisation (Gatys), fast feed-forward networks, arbitrary style (AdaIN); TensorFlow.js importer.
export {
  stylize,
  stylizeToFile,
  writeStyleImage,
  STYLE_METHODS,
  STYLE_RECIPE_FORMAT,
  type StyleMethod,
  type StyleRequest,
  type StyleResult,
  type StyleImageInput,
} from './style/stylize.ts';
export {
  gatysTransfer,
  gatysLossEvaluator,
  GATYS_DEFAULTS,
  GATYS_OPTIMIZERS,
  type GatysOptions,
  type GatysOptimizer,
  type GatysEvaluation,
  type TemporalPrior,
  type WeightedStyle,
} from './style/gatys.ts';
export { lbfgsMinimize, type LbfgsOptions, type LbfgsResult, type LbfgsEvaluation } from './style/lbfgs.ts';
// Sequences: a folder of frames or an animated GIF/WebP, stylised without flicker (motion-compensated coherence).
export {
  stylizeSequence,
  writeSequence,
  measureFlicker,
  SEQUENCE_DEFAULTS,
  SEQUENCE_RECIPE_FORMAT,
  type SequenceRequest,
  type SequenceResult,
  type FlickerStats,
} from './style/sequence.ts';
export { loadFrames, isFrameSequence, MAX_FRAMES, type FrameSequence } from './style/frames.ts';
export { estimateFlow, warp, warpConfidence, frameMotion, type Flow, type FlowOptions, type FrameMotion } from './style/motion.ts';
export { defaultEncoder, randomWeightEncoder, tfjsEncoder, MOBILENET_V2_LAYERS, type FeatureEncoder } from './style/encoder.ts';
export { extractFeatures, type FeatureRequest, type HostFeature } from './style/features.ts';
export { preserveColor, luminance } from './style/color.ts';
export { loadImage, MAX_PIXELS } from './style/load-image.ts';
export { runImageModel, resizeImageModel } from './style/onnx-image-model.ts';
export { toPlanes, toPixels, resizePlanes, type RgbPlanes } from './style/planes.ts';
export { readGimpPattern } from './style/gimp-pattern.ts';
export { readTfjsModel, nsfwjsModelDir, type TfjsLayersModel, type KerasLayer, type NsfwjsModelName } from './tfjs/model-files.ts';
export { buildTfjsLayers, SUPPORTED_LAYERS, type BuildTfjsOptions } from './tfjs/layers-graph.ts';
export { onnxEncoder, vggLayerNames, type InputNormalisation } from './style/onnx-encoder.ts';
export { adainTransfer, loadAdainModel, DEFAULT_ADAIN_DIR, type AdainModel } from './style/adain-model.ts';
export {
  ADAIN_DEFAULT,
  ADAIN_EIGHTH,
  ADAIN_QUARTER,
  adaptiveInstanceNorm,
  buildDecoder,
  channelStats,
  matchColorStats,
  type AdainConfig,
} from './style/adain.ts';
export { trainAdainDecoder, TRAIN_ADAIN_DEFAULTS, type TrainAdainOptions } from './style/train-adain.ts';
export { trainFastStyle, exportFastNet, TRAIN_FAST_DEFAULTS, type TrainFastOptions } from './style/train-fast.ts';
export { buildFastNet, FAST_NET_DEFAULT, type FastNetConfig } from './style/fast-net.ts';
export { ContentSet } from './style/content-set.ts';

// GANs trained on an artist's own pictures, and latent-space exploration (GAN and diffusion).
export { ganConfig, Generator, Discriminator, minibatchStd, type GanConfig } from './models/gan.ts';
export { exportGenerator, type GeneratorModels } from './models/gan-export.ts';
export { trainGan, buildGanTrainStep, GAN_DEFAULTS, type TrainGanOptions, type TrainGanResult } from './train/gan/train-gan.ts';
export { prepareGanData, type GanData, type GanImages } from './train/gan/gan-data.ts';
export { exportGanModel, writeGeneratorFolder, writeModelCard as writeGanModelCard } from './train/gan/gan-export-folder.ts';
export { GanModel, type GanModelInfo, type Gene } from './pipelines/gan-model.ts';
export { LatentResolver, renderSpecs, seedLatent, type LatentSpec, type ExploreRecipe } from './pipelines/gan-explore.ts';
export { breedSpecs, cornerGridSpecs, geneGridSpecs, geneWalkSpecs, seedSpec, walkSpecs, type WalkOptions } from './pipelines/explore-specs.ts';
export { slerp, lerp, ease, frameTimes, crossover, mutate, weightedMean, type Easing, type InterpolationMethod } from './pipelines/latent-math.ts';
export { renderAndWrite, type ExploreOutputOptions, type ExploreResult } from './pipelines/explore-run.ts';
export { readExploreRecipe, writeAnimation, writeRgbAnimation, encodeRgbAnimation, describeSpec } from './pipelines/explore-output.ts';
export {
  renderDiffusion,
  blendConditioning,
  resolveNoise,
  type NoiseSpec,
  type PromptBlend,
  type DiffusionBase,
  type DiffusionExploreRecipe,
} from './pipelines/diffusion-explore.ts';
export { runGanEval, type GanEvalReport } from './eval/gan-eval.ts';

// Safety and limits: what gesso refuses (README "Security").
// Reading files a user names: regular files only, size caps, never blocking on a FIFO.
export { checkRegularFile, FILE_LIMITS, openRegularFile, readRegularFile, readTextFile, type ReadLimits } from './core/safe-read.ts';
// Writing outputs without replacing files gesso did not make; temp-file hygiene.
export {
  describeWriteError,
  discardStaged,
  publishStaged,
  removeStaleTemps,
  stageFile,
  tempPathFor,
  writeNewFile,
  type StagedFile,
} from './core/output-file.ts';
// Printing untrusted text (metadata, file names) to a terminal.
export { escapeForTerminal, jsonForTerminal } from './core/terminal-text.ts';
// Images: header-first decoding with pixel limits (decompression bombs).
export { checkImageFile, declaredImageSize, MAX_DECODE_SIDE, type DecodeLimits } from './image/read-info.ts';
// Generation limits: model-free request checks, the memory estimate and its default limit.
export { checkRequest, defaultMemoryLimit, MAX_BATCH, MAX_SIDE, MAX_STEPS } from './pipelines/settings.ts';
export { estimateGenerateMemory, formatBytes, type MemoryEstimate, type MemoryModel, type MemoryRequest } from './pipelines/memory-estimate.ts';
export { recipeSources } from './pipelines/recipe.ts';
// Prompts from files or standard input (long prompts: see src/cli/long-argv.ts for why not argv).
export { readPromptFile, readPromptStdin } from './text/prompt-input.ts';
export { MAX_PROMPT_WEIGHT } from './text/prompt-weights.ts';
export { MAX_SCHEDULE_SIGMA } from './schedulers/noise-schedule.ts';
export { checkThreadCount, maxThreads } from './runtime/threads.ts';
export { MAX_CHECKPOINT_STEP } from './train/train-session.ts';

// Studio: the library, curation and accounts, on SQLite.
export { openDatabase, type Db } from './studio/database.ts';
export { ImageStore } from './studio/image-store.ts';
export { Library, NotFoundError, type ImageQuery, type ImagePage, type ImageRecord, type NewImage } from './studio/library.ts';
export { Collections, ForbiddenError, type BoardRole, type Collection } from './studio/collections.ts';
export { Comparisons, type Comparison, type Winner } from './studio/comparisons.ts';
export { Users, type User } from './studio/users.ts';
export { importPng } from './studio/import-image.ts';
export { DataRegister, classifyLicence, type DatasetRecord, type DatasetFile, type LicenceStatus } from './studio/data-register.ts';
export { exportCollection } from './studio/export.ts';
export { checkUpload, DEFAULT_UPLOAD_LIMITS, TooLargeError, type UploadLimits } from './studio/upload-limits.ts';

// Server: `gesso serve` and `gesso worker` as functions, the queue contract and its two implementations.
export { startServer, DEFAULT_PORT, type ServeOptions, type RunningServer } from './server/serve.ts';
export { startWorker, type WorkerOptions } from './server/worker.ts';
export { Studio, jobHandlers, type StudioOptions } from './server/studio.ts';
export { buildApp, type AppOptions } from './server/app.ts';
export { ModelRegistry, DEFAULT_MODEL_ID } from './server/models.ts';
/** LoRA files a server offers by name (ModelRegistry.loras), and the choice of a generation's LoRAs (list + prompt tags). */
export { LoraFolders, studioLoraDir, MAX_LORA_WEIGHT, type LoraEntry, type LoraWeight } from './server/loras.ts';
export { submitGenerate, generateAndWait, type GenerateParams } from './server/generate-service.ts';
export type { JobQueue, JobRecord, JobState, JobProgress, JobHandler, ResultSink, SubmitJob } from './server/queue/types.ts';
export { JobStore } from './server/queue/job-store.ts';
export { InProcessQueue } from './server/queue/in-process-queue.ts';
export { BullMqQueue } from './server/queue/bullmq-queue.ts';
export { FarmWorker } from './server/queue/farm-worker.ts';
// The studio's Explore, Style, Train and Models pages: their job kinds, training runs and the model catalog.
export { listCatalog, modelCard, modelKind, type CatalogEntry, type ModelCard, type ModelKind } from './server/model-catalog.ts';
export { exploreHandler, ganSpecs, type ExplorePayload, type ExploredImage, type ExploreMode } from './server/jobs/explore-job.ts';
export { styleHandler, type StylePayload } from './server/jobs/style-job.ts';
export { trainHandler, type TrainPayload } from './server/jobs/train-job.ts';
export { TrainRuns, readHistory, sampleGrids, type TrainRun, type LossPoint, type SampleGrid } from './server/training/train-runs.ts';
export { TRAIN_TYPES, type TrainType } from './server/training/train-protocol.ts';

// Fine-tuning on the artist's own pictures: LoRA training, textual inversion, full fine-tune (with DreamBooth
// prior preservation), LoRA files (kohya/A1111 keys) and embeddings (A1111 emb_params), applied at load.
export { finetune, finetuneMethod, FINETUNE_METHODS, type FinetuneMethod, type FinetuneOptions, type FinetuneResult } from './train/finetune/finetune.ts';
export { trainLora, type LoraTrainingOptions, type LoraTrainingResult } from './train/finetune/train-lora.ts';
export { trainTextualInversion, type TextualInversionOptions, type TextualInversionResult } from './train/finetune/train-textual-inversion.ts';
export { trainFull, type FullFinetuneOptions, type FullFinetuneResult } from './train/finetune/train-full.ts';
export { readEmbeddingFile, writeEmbeddingFile, EMBEDDING_KEY, type EmbeddingFile } from './weights/embedding-file.ts';
export { embedWords, tokenEmbeddingName, type EmbeddedWords } from './pipelines/embedding-merge.ts';
export { chooseEmbeddings, DEFAULT_EMBEDDING_DIR } from './pipelines/embedding-choice.ts';
export { TokenizerWithWords } from './text/added-words.ts';
export { recipeAdapters, type LoraRecord, type EmbeddingRecord } from './pipelines/recipe.ts';
export { readLoraFile, writeLoraFile, kohyaKey, type LoraFile, type LoraModule } from './weights/lora-file.ts';
export { mergeLoras, type WeightedLora } from './pipelines/lora-merge.ts';
export { chooseLoras, parseLoraArgument, DEFAULT_LORA_DIR } from './pipelines/lora-choice.ts';
export type { LoraChoice } from './pipelines/model-folder.ts';
export { extractLoraTags, type LoraTag } from './text/lora-tags.ts';
export { runLoraEval, type LoraEvalOptions, type LoraEvalReport } from './eval/lora-eval.ts';

// Web studio (served by startServer from web/dist) and the personal taste model.
export { webRoutes, WEB_DIST } from './server/web-routes.ts';
export { TasteService, type JudgementSource, type Why } from './server/taste-service.ts';
export { BoardDocs, type BoardConnection } from './server/collab/board-docs.ts';
export { BoardGenerations } from './server/collab/board-generations.ts';
export { rewriteAwareness, memberColour, type BoardMember } from './server/collab/board-awareness.ts';
// --listen browser sessions: an API token traded for a short-lived cookie (images, SSE, WebSockets).
export { BrowserSessions, sessionCookie, SESSION_COOKIE, SESSION_TTL_MS } from './server/browser-sessions.ts';
export { imageFeatures, standardiser, FEATURE_NAMES, FEATURE_SIZE, type PixelImage } from './taste/features.ts';
export { PreferenceModel, type Judgement, type PreferenceOptions, type Influence } from './taste/preference-model.ts';
export { suggestSettings, type ScoredMake, type SettingsSuggestion, type SuggestOptions } from './taste/suggest.ts';
export { SIMULATED_USERS, simulatedChoice, simulatedRating, type SimulatedUser } from './taste/simulated-users.ts';
