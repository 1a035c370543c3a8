/**
 * gesso's public library API. (The lead merges each capability's exports here; this branch adds the
 * studio server's.)
 */

// Pipelines: what the server's jobs call.
export { generate, GenerationCancelled, type GenerateOptions, type GenerateResult, type GeneratedImage, type StepEvent } from './pipelines/generate.ts';
export type { GenerateRequest, Settings } from './pipelines/settings.ts';
export { DiffusionModel } from './pipelines/model-folder.ts';

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
export { submitGenerate, generateAndWait, type GenerateParams } from './server/generate-service.ts';
export type { JobQueue, JobRecord, JobState, JobProgress, JobHandler, ResultSink, SubmitJob } from './server/queue/types.ts';
export { JobStore } from './server/queue/job-store.ts';
export { InProcessQueue } from './server/queue/in-process-queue.ts';
export { BullMqQueue } from './server/queue/bullmq-queue.ts';
export { FarmWorker } from './server/queue/farm-worker.ts';

// Web studio (served by startServer from web/dist) and the personal taste model.
export { webRoutes, WEB_DIST } from './server/web-routes.ts';
export { lineageRoutes } from './server/routes/lineage-routes.ts';
export { TasteService } from './server/taste-service.ts';
export { BoardDocs } from './server/collab/board-docs.ts';
export { imageFeatures, standardiser, FEATURE_NAMES, FEATURE_SIZE, type PixelImage } from './taste/features.ts';
export { PreferenceModel, type Judgement, type PreferenceOptions } from './taste/preference-model.ts';
export { SIMULATED_USERS, simulatedChoice, simulatedRating, type SimulatedUser } from './taste/simulated-users.ts';
