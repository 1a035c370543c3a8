/**
 * The studio behind `gesso serve`: one data folder holds the SQLite database (library, jobs, users) and
 * the content-addressed image files. Jobs run in this process, or on a render farm when a Redis URL is
 * given. Everything the HTTP routes do goes through this object, so it is also the library API.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Collections } from '../studio/collections.ts';
import { DataRegister } from '../studio/data-register.ts';
import { Comparisons } from '../studio/comparisons.ts';
import { openDatabase, type Db } from '../studio/database.ts';
import { ImageStore } from '../studio/image-store.ts';
import { Library } from '../studio/library.ts';
import { DEFAULT_UPLOAD_LIMITS, type UploadLimits } from '../studio/upload-limits.ts';
import { Users } from '../studio/users.ts';
import { DatasetFolders } from './dataset-folders.ts';
import { exploreHandler } from './jobs/explore-job.ts';
import { generateHandler } from './jobs/generate-job.ts';
import { librarySink } from './jobs/result-sink.ts';
import { sleepHandler } from './jobs/sleep-job.ts';
import { styleHandler } from './jobs/style-job.ts';
import { trainHandler } from './jobs/train-job.ts';
import { upscaleHandler } from './jobs/upscale-job.ts';
import { studioLoraDir } from './loras.ts';
import { ModelRegistry, SHIPPED_MODELS_FOLDER } from './models.ts';
import { BullMqQueue } from './queue/bullmq-queue.ts';
import { InProcessQueue } from './queue/in-process-queue.ts';
import { JobStore } from './queue/job-store.ts';
import { redisOptions } from './queue/redis-connection.ts';
import type { JobHandler, JobQueue } from './queue/types.ts';
import { TrainRuns } from './training/train-runs.ts';

export interface StudioOptions {
  /** Folder for gesso.db and images/ (created). */
  dataDir: string;
  /** Run jobs on a render farm through this Redis (redis://host:port); default: in this process. */
  redisUrl?: string;
  queueName?: string;
  /** Folders whose sub-folders are models, chosen by folder name (default: the shipped models/). */
  modelFolders?: string[];
  /** In-process jobs at once (default 1: the default model already uses both cores). */
  concurrency?: number;
  /** Render farm: jobs handed to Redis at once (default 4). */
  dispatchWindow?: number;
  limits?: UploadLimits;
  /** Folders of LoRA files generations can use by name (the data folder's loras/ is always one). */
  loraFolders?: string[];
  /** Folders whose sub-folders (built by `gesso data`) can be registered as training datasets, by name. */
  datasetFolders?: string[];
}

export class Studio {
  private constructor(
    readonly dataDir: string,
    readonly db: Db,
    readonly library: Library,
    readonly collections: Collections,
    readonly comparisons: Comparisons,
    readonly users: Users,
    readonly models: ModelRegistry,
    readonly queue: JobQueue,
    readonly limits: UploadLimits,
    readonly dataRegister: DataRegister,
    readonly datasetFolders: DatasetFolders,
    readonly trainRuns: TrainRuns,
  ) {}

  /** Where LoRAs trained in the studio are installed (a LoRA folder of the registry). */
  get trainedLorasDir(): string {
    return studioLoraDir(this.dataDir);
  }

  /** Where models trained in the studio are installed (a model folder of the registry). */
  get trainedModelsDir(): string {
    return join(this.dataDir, 'models');
  }

  static async open(options: StudioOptions): Promise<Studio> {
    if (options.redisUrl !== undefined) redisOptions(options.redisUrl); // a bad URL fails before anything is created
    const dataDir = resolve(options.dataDir);
    mkdirSync(join(dataDir, 'images'), { recursive: true });
    const db = openDatabase(join(dataDir, 'gesso.db'));
    const library = new Library(db, new ImageStore(join(dataDir, 'images')));
    // Models trained in the studio (Train page) live in the data folder and are listed with the others.
    const models = new ModelRegistry(
      [...(options.modelFolders ?? [SHIPPED_MODELS_FOLDER]), join(dataDir, 'models')],
      [...(options.loraFolders ?? []), studioLoraDir(dataDir)],
    );
    const limits = options.limits ?? DEFAULT_UPLOAD_LIMITS;
    const store = new JobStore(db);
    const sink = librarySink(library);
    let queue: JobQueue;
    if (options.redisUrl !== undefined) {
      const farm = new BullMqQueue(store, {
        redisUrl: options.redisUrl,
        sink,
        ...(options.queueName !== undefined ? { queueName: options.queueName } : {}),
        ...(options.dispatchWindow !== undefined ? { window: options.dispatchWindow } : {}),
      });
      try {
        await farm.ready();
      } catch (e) {
        await farm.close();
        db.close();
        throw e;
      }
      queue = farm;
    } else {
      queue = new InProcessQueue(store, { handlers: jobHandlers(models, limits), sink, concurrency: options.concurrency ?? 1 });
    }
    const collections = new Collections(db, library);
    const datasets = new DatasetFolders(options.datasetFolders ?? []);
    return new Studio(
      dataDir,
      db,
      library,
      collections,
      new Comparisons(db, library),
      new Users(db),
      models,
      queue,
      limits,
      new DataRegister(db),
      datasets,
      new TrainRuns(join(dataDir, 'training')),
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.models.release();
    this.db.close();
  }
}

/** Every job kind a worker (in-process or on the farm) can run. */
export function jobHandlers(models: ModelRegistry, limits: UploadLimits = DEFAULT_UPLOAD_LIMITS): Record<string, JobHandler> {
  return {
    generate: generateHandler(models, limits),
    upscale: upscaleHandler(models, limits),
    sleep: sleepHandler,
    explore: exploreHandler(models),
    style: styleHandler(models, limits),
    train: trainHandler,
  };
}
