/**
 * Turns a generation request from any API (gesso's, A1111's, OpenAI's) into a queued `generate` job:
 * the model is chosen by id, library images are resolved by id (their hash becomes the lineage), and
 * base64 images are checked against the upload limits from their header before the job is queued.
 */
import { InputError } from '../core/errors.ts';
import type { JsonObject } from '../core/json.ts';
import { lookupScheduler, schedulerNames } from '../schedulers/index.ts';
import type { ImageRecord } from '../studio/library.ts';
import { HttpError } from './http-errors.ts';
import { checkUpload } from '../studio/upload-limits.ts';
import type { User } from '../studio/users.ts';
import type { GeneratePayload } from './jobs/generate-job.ts';
import type { JobRecord } from './queue/types.ts';
import type { Studio } from './studio.ts';

export interface GenerateParams extends Omit<GeneratePayload, 'model' | 'initSha256'> {
  model?: string;
  initImageId?: string;
  maskImageId?: string;
}

export async function submitGenerate(studio: Studio, user: User, params: GenerateParams, options: { id?: string; priority?: number } = {}): Promise<JobRecord> {
  const { initImageId, maskImageId, ...rest } = params;
  // What can be checked without the model fails now, not later in the queue.
  if (params.scheduler !== undefined && !lookupScheduler(params.scheduler)) {
    throw new InputError(`unknown scheduler ${JSON.stringify(params.scheduler)}; expected one of: ${schedulerNames().join(', ')}`);
  }
  if (params.mask !== undefined || maskImageId !== undefined) {
    if (params.initImage === undefined && initImageId === undefined) throw new InputError('a mask needs an init image to inpaint (initImageId or initImage)');
  }
  const payload: GeneratePayload = { ...rest, model: studio.models.resolve(params.model ?? studio.models.defaultId).id };
  // LoRAs chosen by name and the prompt's <lora:name:w> tags: known, in range, each once.
  const loras = studio.models.loras.choose(params.loras ?? [], params.prompt);
  if (loras.length > 0) payload.loras = loras;
  else delete payload.loras;
  if (initImageId !== undefined) {
    const image = studio.library.require(user.id, initImageId);
    payload.initImage = Buffer.from(await studio.library.store.get(image.sha256)).toString('base64');
    payload.initSha256 = image.sha256;
  }
  if (maskImageId !== undefined) payload.mask = Buffer.from(await studio.library.png(user.id, maskImageId)).toString('base64');
  for (const [what, data] of [
    ['initImage', payload.initImage],
    ['mask', payload.mask],
  ] as const) {
    if (data !== undefined) await checkUpload(new Uint8Array(Buffer.from(data.replace(/^data:image\/[a-z]+;base64,/, ''), 'base64')), what, studio.limits);
  }
  return studio.queue.submit({
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.priority !== undefined ? { priority: options.priority } : {}),
    userId: user.id,
    kind: 'generate',
    payload: payload as unknown as JsonObject,
  });
}

/** A job as the API shows it (the payload may hold megabytes of base64: left out). */
export function publicJob(job: JobRecord): Omit<JobRecord, 'payload' | 'userId'> {
  const { payload: _payload, userId: _userId, ...rest } = job;
  return rest;
}

export interface FinishedGeneration {
  job: JobRecord;
  images: ImageRecord[];
  /** The PNGs as stored (with metadata), base64. */
  pngs: string[];
}

/**
 * Queues a generation and waits for it (the synchronous A1111 and OpenAI endpoints). A failed job is
 * answered as a bad request with the job's message: it is almost always a setting the model refuses.
 */
export async function generateAndWait(studio: Studio, user: User, params: GenerateParams): Promise<FinishedGeneration> {
  const submitted = await submitGenerate(studio, user, params);
  const job = await studio.queue.waitFor(user.id, submitted.id);
  if (job.state === 'cancelled') throw new HttpError(409, `generation ${job.id} was interrupted`);
  if (job.state !== 'done') throw new HttpError(400, job.error ?? `generation ${job.id} failed`);
  const images = studio.library.imagesOfJob(user.id, job.id);
  const pngs = await Promise.all(images.map(async (i) => Buffer.from(await studio.library.store.get(i.sha256)).toString('base64')));
  return { job, images, pngs };
}
