/**
 * gesso's public library API. (Started by the reliability work: the lead merges the other capabilities'
 * exports in here.)
 */

// Reading files a user names: regular files only, size caps, never blocking on a FIFO.
export { checkRegularFile, FILE_LIMITS, openRegularFile, readRegularFile, readTextFile, type ReadLimits } from './core/safe-read.ts';
// Writing outputs without replacing files gesso did not make; temp-file hygiene.
export { describeWriteError, discardStaged, publishStaged, removeStaleTemps, stageFile, tempPathFor, writeNewFile, type StagedFile } from './core/output-file.ts';
// Printing untrusted text (metadata, file names) to a terminal.
export { escapeForTerminal, jsonForTerminal } from './core/terminal-text.ts';
// Images: header-first decoding with pixel limits (decompression bombs).
export { checkImageFile, declaredImageSize, decodeImage, MAX_DECODE_SIDE, readImageInfo, type DecodeLimits, type DecodedImage, type ImageInfo } from './image/read-info.ts';
// Generation limits: model-free request checks, the memory estimate and its default limit.
export { checkRequest, defaultMemoryLimit, MAX_BATCH, MAX_SIDE, MAX_STEPS } from './pipelines/settings.ts';
export { estimateGenerateMemory, formatBytes, type MemoryEstimate, type MemoryModel, type MemoryRequest } from './pipelines/memory-estimate.ts';
export { recipeSources, requestFromRecipe } from './pipelines/recipe.ts';
// Prompts from files or standard input (long prompts: see src/cli/long-argv.ts for why not argv).
export { readPromptFile, readPromptStdin } from './text/prompt-input.ts';
export { MAX_PROMPT_WEIGHT } from './text/prompt-weights.ts';
export { MAX_SCHEDULE_SIGMA } from './schedulers/noise-schedule.ts';
export { checkThreadCount, maxThreads } from './runtime/threads.ts';
export { MAX_CHECKPOINT_STEP } from './train/train-session.ts';
